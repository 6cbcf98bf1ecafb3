// The roofline kernel-time model (sim/kernels/roofline.h): tile, block and wave counts and
// kernel times derived by hand, on a toy GPU with round numbers and on the V100 defaults.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/config/hardware_files.h"
#include "sim/gpu/profile.h"
#include "sim/kernels/roofline.h"

namespace infersim::kernels {
namespace {

// The V100 of hardware_profiles/gpus.yaml.
GpuSpec v100_spec() {
  return *find_gpu(load_gpus(std::string(INFERSIM_SOURCE_DIR) + "/hardware_profiles/gpus.yaml"),
                   "v100");
}

// 10 SMs of 1 TFLOP/s each, 1 TB/s at 50% achievable; one 64x64 tile of 128 threads (4
// warps) reaching half of peak.
KernelModelParams toy() {
  KernelModelParams p;
  p.gpu = "toy";
  p.sm_count = 10;
  p.peak_flops = 10e12;
  p.bandwidth = 1e12;
  p.bandwidth_efficiency = 0.5;
  p.launch_overhead_ns = 1000;
  p.host_launch_interval_ns = 0;
  p.memory_latency_ns = 100;
  p.max_threads_per_sm = 2048;
  p.max_blocks_per_sm = 32;
  p.registers_per_sm = 65536;
  p.shared_bytes_per_sm = 96 * 1024;
  p.schedulers_per_sm = 4;
  p.tiles = {{64, 64, 8, 128, 64, 16384, 0.5}};
  p.split_k = {1};
  return p;
}

KernelCall gemm(std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t count = 1) {
  KernelCall c;
  c.kind = KernelCall::Kind::kGemm;
  c.m = m;
  c.n = n;
  c.k = k;
  c.count = count;
  c.flops = 2.0 * m * n * k * count;
  c.bytes = 4.0 * (m * k + k * n + m * n) * count;
  return c;
}

TEST(Roofline, OccupancyIsTheTightestSmLimit) {
  // 64x64 tile, 128 threads, 64 registers, 16 KiB shared: threads 2048/128 = 16, registers
  // 65536 / (64*128) = 8, shared 98304 / 16384 = 6, blocks 32 -> 6 per SM.
  EXPECT_EQ(blocks_per_sm(toy().tiles[0], toy()), 6);
}

TEST(Roofline, BlocksWavesAndTimeOfASmallGemm) {
  // 256 x 256 x 64: ceil(256/64) * ceil(256/64) = 16 blocks; waves = ceil(16 / (10 * 6)) = 1.
  // The busiest SM holds ceil(16 / 10) = 2 blocks = 8 warps >= 4 schedulers: full issue.
  // A block: 2 * 64 * 64 * 64 = 524,288 FLOPs at 1e12 * 0.5 FLOP/s = 1048.576 ns; two of
  // them 2097.152 ns. Bytes 4 * (256*64 + 64*256 + 256*256) = 393,216 at 0.5e12 B/s =
  // 786.432 ns. Time = 2097.152 + 1000 launch + 2 * 100 latency = 3297.152 -> 3297 ns.
  const KernelTime t = kernel_time(gemm(256, 256, 64), toy());
  EXPECT_EQ(t.blocks, 16);
  EXPECT_EQ(t.waves, 1);
  EXPECT_EQ(t.blocks_per_sm, 6);
  EXPECT_EQ(t.sms, 3);           // min(10, ceil(16 / 6)) SMs' worth of slots
  EXPECT_EQ(t.sms_touched, 10);  // the scheduler spreads 16 blocks over all 10 SMs
  EXPECT_DOUBLE_EQ(t.compute_ns, 2097.152);
  EXPECT_DOUBLE_EQ(t.memory_ns, 786.432);
  EXPECT_FALSE(t.memory_bound);
  EXPECT_EQ(t.ns, 3297);
}

TEST(Roofline, FullWavesCostWavesTimesTheTileTime) {
  // 120 blocks = 10 SMs * 6 per SM * 2 waves (M = 64 * 12, N = 64 * 10). Each SM runs 12
  // blocks: 2 waves x (6 blocks x 1048.576 ns) = 12,582.912 ns.
  const KernelTime t = kernel_time(gemm(64 * 12, 64 * 10, 64), toy());
  EXPECT_EQ(t.blocks, 120);
  EXPECT_EQ(t.waves, 2);
  EXPECT_DOUBLE_EQ(t.compute_ns, 2 * 6 * 1048.576);
  EXPECT_EQ(t.sms, 10);
}

TEST(Roofline, APartialWaveIsChargedForTheBlocksItHolds) {
  // 25 blocks (M = 64 * 5, N = 64 * 5): waves = 1, but the busiest SM runs ceil(25/10) = 3
  // blocks: 3 * 1048.576 ns, not a full wave of 6.
  const KernelTime t = kernel_time(gemm(320, 320, 64), toy());
  EXPECT_EQ(t.blocks, 25);
  EXPECT_EQ(t.waves, 1);
  EXPECT_DOUBLE_EQ(t.compute_ns, 3 * 1048.576);
}

TEST(Roofline, ALoneBlockWithFewWarpsLeavesSchedulersIdle) {
  // One 64x64 block (4 warps, the toy's 4 schedulers): full issue, 1048.576 ns. A 32x32
  // tile of 64 threads (2 warps) issues at half rate: 2 * 32 * 32 * 64 FLOPs at
  // 1e12 * 0.5 * 0.5 = 131,072 / 2.5e11 s = 524.288 ns.
  EXPECT_DOUBLE_EQ(kernel_time(gemm(64, 64, 64), toy()).compute_ns, 1048.576);
  KernelModelParams p = toy();
  p.tiles = {{32, 32, 8, 64, 64, 8192, 0.5}};
  EXPECT_DOUBLE_EQ(kernel_time(gemm(32, 32, 64), p).compute_ns, 524.288);
}

TEST(Roofline, CublasWarpsIssueAtAMeasuredFractionOfTheirScheduler) {
  // cuBLAS's kernels: an SM runs at min(tile efficiency, warps x 0.349 / schedulers).
  KernelModelParams cublas = with_library(toy(), GemmLibrary::kCublas);
  EXPECT_DOUBLE_EQ(cublas.warp_issue, 0.349);
  EXPECT_DOUBLE_EQ(with_library(toy(), GemmLibrary::kTvm).warp_issue, 0.0);
  cublas.split_k = {1};  // one block per tile, so the blocks per SM are the ones below
  // One 64x64 block of 4 warps alone on its SM (64 x 64 x 64): min(0.5, 4 x 0.349 / 4) =
  // 0.349 of the SM's 1e12 FLOP/s: 524,288 FLOPs / 3.49e11 = 1502.257... ns. TVM keeps the
  // warp-count law: 4 warps / 4 schedulers = full issue, 1048.576 ns.
  EXPECT_DOUBLE_EQ(kernel_time(gemm(64, 64, 64), cublas).compute_ns, 524288.0 / 3.49e11 * 1e9);
  EXPECT_DOUBLE_EQ(kernel_time(gemm(64, 64, 64), toy()).compute_ns, 1048.576);
  // 20 blocks on 10 SMs (128 x 640 x 64: 2 x 10 tiles): 2 resident, 8 warps, min(0.5, 8 x
  // 0.349 / 4 = 0.698) = 0.5, the tile's own efficiency: two blocks at 1048.576 ns each.
  EXPECT_DOUBLE_EQ(kernel_time(gemm(128, 640, 64), cublas).compute_ns, 2097.152);
  // A 32x32 tile of 2 warps alone: min(0.5, 2 x 0.349 / 4 = 0.1745): 131,072 FLOPs /
  // 1.745e11 = 751.128... ns (the warp-count law: half issue, 524.288 ns).
  KernelModelParams small = cublas;
  small.tiles = {{32, 32, 8, 64, 64, 8192, 0.5}};
  EXPECT_DOUBLE_EQ(kernel_time(gemm(32, 32, 64), small).compute_ns, 131072.0 / 1.745e11 * 1e9);
}

TEST(Roofline, TileQuantizationChargesWholeTilesAndKSteps) {
  // 65 x 64 x 60: 2 x 1 tiles of 64x64; k rounds up to 8 steps of 8 = 64. The busiest SM
  // holds one block of 2 * 64 * 64 * 64 FLOPs: 1048.576 ns.
  const KernelTime t = kernel_time(gemm(65, 64, 60), toy());
  EXPECT_EQ(t.blocks, 2);
  EXPECT_DOUBLE_EQ(t.compute_ns, 1048.576);
}

TEST(Roofline, SplitKAddsBlocksPartialSumsAndAReduceKernel) {
  // 64 x 64 x 256 split 4: 1 tile x 4 slices = 4 blocks of ceil(256 / (4*8)) = 8 k steps
  // (64 of k): 1048.576 ns each, one per SM. Each slice writes its partial C once:
  // 4 * 64*64 * 4 B = 65,536 B on top of 4 * (64*256 + 256*64 + 64*64) = 147,456 B:
  // 212,992 B / 0.5e12 = 425.984 ns. GEMM kernel: 1048.576 + 1000 launch + 2 * 100 latency
  // = 2248.576 ns. The reduce kernel reads the 4 partials and writes C, (4+1) * 64*64 * 4 B =
  // 81,920 B / 0.5e12 = 163.84 ns, plus its own launch (1000) and latency (100): 1263.84 ns.
  // Total 3512.416 ns, rounded to 3512.
  KernelModelParams p = toy();
  p.split_k = {1, 4};
  const KernelTime t = gemm_time(gemm(64, 64, 256), p, 0, 4);
  EXPECT_EQ(t.blocks, 4);
  EXPECT_DOUBLE_EQ(t.compute_ns, 1048.576);
  EXPECT_DOUBLE_EQ(t.memory_ns, 425.984);
  EXPECT_DOUBLE_EQ(t.reduce_ns, 1263.84);
  EXPECT_EQ(t.ns, 3512);
  // Unsplit: one block of 2 * 64*64*256 FLOPs = 4194.304 ns, no reduce kernel:
  // 4194.304 + 1200 = 5394.304 ns. The model picks the split.
  const KernelTime whole = gemm_time(gemm(64, 64, 256), p, 0, 1);
  EXPECT_DOUBLE_EQ(whole.compute_ns, 4194.304);
  EXPECT_EQ(whole.reduce_ns, 0.0);
  EXPECT_EQ(whole.ns, 5394);
  EXPECT_EQ(kernel_time(gemm(64, 64, 256), p).split_k, 4);
  // The reduce is a launch of its own: no faster than the host's launch interval.
  p.host_launch_interval_ns = 3000;
  EXPECT_EQ(gemm_time(gemm(64, 64, 256), p, 0, 4).ns, 3000 + 3000);
}

TEST(Roofline, ElementwiseKernelsAreBandwidthBound) {
  // 1 MB read + written at 0.5e12 B/s = 2000 ns, plus the launch (1000) and one memory
  // latency (100): 3100 ns.
  KernelCall c;
  c.kind = KernelCall::Kind::kMemory;
  c.bytes = 1e6;
  const KernelTime t = kernel_time(c, toy());
  EXPECT_TRUE(t.memory_bound);
  EXPECT_DOUBLE_EQ(t.memory_ns, 2000.0);
  EXPECT_EQ(t.ns, 3100);
  // V100 defaults: 100 MB at 900 GB/s * 790/900 = 790 GB/s is 126,582.278... ns, plus the
  // measured 1900 ns launch overhead and 349 ns latency: 128,831.278 -> 128,831 ns.
  const GpuSpec v100 = v100_spec();
  c.bytes = 100e6;
  EXPECT_EQ(kernel_time(c, default_kernel_params(v100)).ns, 128831);
}

TEST(Roofline, CublasRunsAMatrixVectorProductAsAGemv) {
  // 512 x 1 x 512 reads A (512*512) and x (512) and writes y (512): 4 * 263,168 =
  // 1,052,672 B / 0.5e12 = 2105.344 ns, plus one launch (1000) and one latency (100):
  // 3205.344 -> 3205 ns, no tile and no split.
  const KernelModelParams cublas = with_library(toy(), GemmLibrary::kCublas);
  EXPECT_TRUE(cublas.gemv);
  const KernelTime t = kernel_time(gemm(512, 1, 512), cublas);
  EXPECT_EQ(t.ns, 3205);
  EXPECT_EQ(t.tile, -1);
  EXPECT_TRUE(t.memory_bound);
  // Batched, two problems are one launch moving both: 4210.688 + 1100 = 5310.688 -> 5311.
  const std::vector<KernelCall> two = {gemm(512, 1, 512), gemm(512, 1, 512)};
  EXPECT_EQ(batched_kernel_time(two, cublas).ns, 5311);
  // TVM has no GEMV: the same product runs as tiles; a GEMM with n > 1 stays tiled.
  EXPECT_FALSE(with_library(toy(), GemmLibrary::kTvm).gemv);
  EXPECT_GE(kernel_time(gemm(512, 1, 512), with_library(toy(), GemmLibrary::kTvm)).tile, 0);
  EXPECT_GE(kernel_time(gemm(512, 2, 512), cublas).tile, 0);
}

TEST(Roofline, AReducedShareSlowsComputeAndMemory) {
  // 120 blocks on 5 of the 10 SMs: 24 per SM, twice the full GPU's 12. Half the bandwidth
  // doubles the memory term.
  const KernelCall c = gemm(64 * 12, 64 * 10, 64);
  const KernelTime full = kernel_time(c, toy());
  const KernelTime half = kernel_time(c, toy(), GpuShare{5, 0.5});
  EXPECT_DOUBLE_EQ(half.compute_ns, 2 * full.compute_ns);
  EXPECT_DOUBLE_EQ(half.memory_ns, 2 * full.memory_ns);
  EXPECT_EQ(half.sms, 5);
  EXPECT_THROW(kernel_time(c, toy(), GpuShare{11, 1}), std::invalid_argument);
  EXPECT_THROW(kernel_time(c, toy(), GpuShare{0, 0}), std::invalid_argument);
}

TEST(Roofline, AMergedBatchedKernelSumsTheBlocksOfItsParts) {
  // Three tenants' 256 x 256 x 64 GEMMs (16 blocks each, 3297 ns alone: see
  // BlocksWavesAndTimeOfASmallGemm) as one batched kernel: 48 blocks, waves = ceil(48 / 60)
  // = 1, the busiest SM holds ceil(48 / 10) = 5 blocks (20 warps: full issue): 5 * 1048.576 =
  // 5242.88 ns. Bytes 3 * 393,216 = 1,179,648 at 0.5e12 B/s = 2359.296 ns. Time = 5242.88 +
  // 1000 launch + 200 latency = 6442.88 -> 6443 ns, against 3 * 3297 = 9891 ns one by one.
  const std::vector<KernelCall> three(3, gemm(256, 256, 64));
  const KernelTime t = batched_kernel_time(three, toy());
  EXPECT_EQ(t.blocks, 48);
  EXPECT_EQ(t.waves, 1);
  EXPECT_EQ(t.sms_touched, 10);
  EXPECT_DOUBLE_EQ(t.compute_ns, 5 * 1048.576);
  EXPECT_DOUBLE_EQ(t.memory_ns, 2359.296);
  EXPECT_EQ(t.ns, 6443);
  // It is the same kernel as one GEMM of count 3 (cublasSgemmBatched of three problems).
  KernelCall batched = gemm(256, 256, 64, 3);
  EXPECT_EQ(kernel_time(batched, toy()).ns, t.ns);
  // Parts of different batch sizes (vbatched): 256 x 256 and 256 x 64 columns: 4 * 4 +
  // 4 * 1 = 20 blocks; busiest SM ceil(20 / 10) = 2: 2097.152 ns. Bytes 393,216 +
  // 4 * (256*64 + 64*64 + 256*64) = 393,216 + 147,456 = 540,672 at 0.5e12 = 1081.344 ns.
  // Time 2097.152 + 1200 = 3297.152 -> 3297 ns.
  const std::vector<KernelCall> mixed = {gemm(256, 256, 64), gemm(256, 64, 64)};
  const KernelTime m = batched_kernel_time(mixed, toy());
  EXPECT_EQ(m.blocks, 20);
  EXPECT_DOUBLE_EQ(m.compute_ns, 2097.152);
  EXPECT_DOUBLE_EQ(m.memory_ns, 1081.344);
  EXPECT_EQ(m.ns, 3297);
  // Parts must be one layer: the same m and k.
  const std::vector<KernelCall> other = {gemm(256, 256, 64), gemm(128, 256, 64)};
  EXPECT_THROW(batched_kernel_time(other, toy()), std::invalid_argument);
  // Memory kernels move the sum of their bytes in one launch: 2 x 1 MB at 0.5e12 B/s =
  // 4000 ns + 1000 launch + 100 latency.
  KernelCall copy;
  copy.kind = KernelCall::Kind::kMemory;
  copy.bytes = 1e6;
  const std::vector<KernelCall> copies(2, copy);
  EXPECT_EQ(batched_kernel_time(copies, toy()).ns, 5100);
}

TEST(Roofline, TheHostLaunchIntervalIsAFloor) {
  KernelModelParams p = toy();
  p.host_launch_interval_ns = 5000;
  EXPECT_EQ(kernel_time(gemm(64, 64, 8), p).ns, 5000);
}

// The V100 defaults on seed 003's Table 1 shapes. Occupancy per tile on compute capability
// 7.0 (2048 threads, 32 blocks, 65536 registers, 96 KiB shared per SM):
//   32x32 (64 threads, 92 registers, 7552 B): min(32, 32, 65536/5888 = 11, 98304/7552 = 13)
//     = 11;
//   64x64 (128 threads, 121 registers, 13696 B): min(32, 16, 65536/15488 = 4, 7) = 4;
//   128x64 (128 threads, 224 registers, 19840 B): min(32, 16, 65536/28672 = 2, 4) = 2.
int tile_index(const KernelModelParams& p, int m, int n) {
  for (std::size_t i = 0; i < p.tiles.size(); ++i) {
    if (p.tiles[i].m == m && p.tiles[i].n == n) return static_cast<int>(i);
  }
  throw std::runtime_error("no tile");
}

TEST(Roofline, SeedThreeShapesOnTheV100) {
  const KernelModelParams p = default_kernel_params(v100_spec());
  // 512 x 1 x 512 (an RNN's matrix-vector) in 32x32 tiles: ceil(512/32) * ceil(1/32) = 16
  // blocks, 1 wave on 80 SMs, ceil(16/11) = 2 SMs' worth of slots, 16 SMs touched.
  KernelTime t = gemm_time(gemm(512, 1, 512), p, tile_index(p, 32, 32), 1);
  EXPECT_EQ(t.blocks, 16);
  EXPECT_EQ(t.blocks_per_sm, 11);
  EXPECT_EQ(t.waves, 1);
  EXPECT_EQ(t.sms, 2);
  EXPECT_EQ(t.sms_touched, 16);
  // ResNet-18 conv2_2, 256 x 128 x 1152, in 64x64 tiles: 4 * 2 = 8 blocks, 1 wave, 2 SMs'
  // worth. As seed 003's batched super-kernel of 120 such problems: 960 blocks,
  // ceil(960 / (80 * 4)) = 3 waves on all 80 SMs.
  t = gemm_time(gemm(256, 128, 1152), p, tile_index(p, 64, 64), 1);
  EXPECT_EQ(t.blocks, 8);
  EXPECT_EQ(t.blocks_per_sm, 4);
  EXPECT_EQ(t.waves, 1);
  EXPECT_EQ(t.sms, 2);
  t = gemm_time(gemm(256, 128, 1152, 120), p, tile_index(p, 64, 64), 1);
  EXPECT_EQ(t.blocks, 960);
  EXPECT_EQ(t.waves, 3);
  EXPECT_EQ(t.sms, 80);
  // 256^3 in 128x64 tiles: 2 * 4 = 8 blocks at 2 per SM: 4 SMs' worth, 1 wave.
  t = gemm_time(gemm(256, 256, 256), p, tile_index(p, 128, 64), 1);
  EXPECT_EQ(t.blocks, 8);
  EXPECT_EQ(t.blocks_per_sm, 2);
  EXPECT_EQ(t.sms, 4);
  // Through cuBLAS, which splits K, the matrix-vector product spreads over more blocks and
  // finishes sooner than TVM-style unsplit tiles allow.
  KernelModelParams cublas = p;
  cublas.split_k = cublas_split_k_factors();
  const KernelTime split = kernel_time(gemm(512, 1, 512), cublas);
  EXPECT_GT(split.split_k, 1);
  EXPECT_LT(split.ns, kernel_time(gemm(512, 1, 512), p).ns);
  // The chosen configuration is never slower than any other.
  for (const KernelCall& c : {gemm(512, 1, 512), gemm(256, 128, 1152), gemm(256, 256, 256)}) {
    const KernelTime best = kernel_time(c, p);
    for (int i = 0; i < static_cast<int>(p.tiles.size()); ++i) {
      EXPECT_LE(best.ns, gemm_time(c, p, i, 1).ns);
    }
  }
}

TEST(Roofline, ATileWhoseBlockDoesNotFitOnAnSmIsNeverLaunched) {
  // A tile twice as efficient as toy()'s, but needing 128 KiB of shared memory: 98304 /
  // 131072 = 0 blocks per SM. Clamped to one block it would run 256 x 256 x 64 in
  // 2 blocks x 524,288 FLOPs / 1e12 FLOP/s = 1048.576 ns and win; it cannot run at all, so
  // the GEMM takes toy()'s tile and its 3297 ns (BlocksWavesAndTimeOfASmallGemm).
  KernelModelParams p = toy();
  p.tiles.push_back({64, 64, 8, 128, 64, 131072, 1.0});
  EXPECT_EQ(blocks_per_sm(p.tiles[1], p), 0);
  const KernelTime t = kernel_time(gemm(256, 256, 64), p);
  EXPECT_EQ(t.tile, 0);
  EXPECT_EQ(t.ns, 3297);
  EXPECT_THROW(gemm_time(gemm(256, 256, 64), p, 1, 1), std::invalid_argument);
  // No tile fits: an error, not a kernel of 0 blocks per SM.
  p.shared_bytes_per_sm = 1024;
  EXPECT_THROW(kernel_time(gemm(256, 256, 64), p), std::invalid_argument);
}

TEST(Roofline, AnSmTooSmallForTheElementwiseBlockIsAnErrorNotADivisionByZero) {
  // 128 threads per SM hold 128 / 256 = 0 element-wise blocks.
  KernelModelParams p = toy();
  p.max_threads_per_sm = 128;
  KernelCall c;
  c.kind = KernelCall::Kind::kMemory;
  c.bytes = 1e6;
  EXPECT_THROW(kernel_time(c, p), std::invalid_argument);
}

TEST(Roofline, TheLeastAnSmMustHoldIsTheElementwiseBlockAndTheSmallestTile) {
  // 256 element-wise threads; the 32x32 tile: 64 threads x 92 registers = 5888, 7552 B.
  const SmNeeds n = minimum_sm_resources();
  EXPECT_EQ(n.threads, 256);
  EXPECT_EQ(n.registers, 5888);
  EXPECT_EQ(n.shared_bytes, 7552);
}

TEST(Roofline, ATimePastTheHorizonIsOutOfTheModelsRangeNeverAWrap) {
  // 1 kB/s at 50%: 2e6 ns per byte; no launch or latency terms, so times are exact.
  KernelModelParams p = toy();
  p.bandwidth = 1e3;
  p.launch_overhead_ns = 0;
  p.memory_latency_ns = 0;
  KernelCall c;
  c.kind = KernelCall::Kind::kMemory;
  c.bytes = 3e11;  // 3e11 B x 2e6 ns/B = 6e17 ns, within the horizon of 1e18
  EXPECT_EQ(kernel_time(c, p).ns, 600'000'000'000'000'000);
  // Two of them one after another: 1.2e18 ns, past the horizon.
  EXPECT_THROW(model_latency({c, c}, p), OutOfModelRange);
  c.bytes = 6e11;  // 1.2e18 ns alone
  EXPECT_THROW(kernel_time(c, p), OutOfModelRange);
  // 1e-300 FLOP/s: an infinite compute time (llround of it was undefined and wrapped).
  p = toy();
  p.peak_flops = 1e-300;
  EXPECT_THROW(kernel_time(gemm(256, 256, 64), p), OutOfModelRange);
  EXPECT_THROW(add_kernel_times(kHorizon, 1), OutOfModelRange);
  EXPECT_EQ(add_kernel_times(kHorizon - 1, 1), kHorizon);
}

TEST(Roofline, UnknownGpuAndEmptyGemmAreErrors) {
  // A device without kernel_model constants (e.g. a CPU described like a GPU).
  const GpuSpec tpu = {"tpu", 16, 1, 1, 1, 1, 1, {}, {}, {}};
  EXPECT_THROW(default_kernel_params(tpu), std::invalid_argument);
  EXPECT_THROW(kernel_time(gemm(0, 1, 1), toy()), std::invalid_argument);
}

}  // namespace
}  // namespace infersim::kernels
