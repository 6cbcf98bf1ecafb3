// Kernel graphs (sim/kernels/graph.h, architecture.h): im2col shapes of known layers, branch
// edges, topological order, FLOPs against published counts, weight sizes against the
// Clockwork table, and the architecture loader's errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "sim/config/hardware_files.h"
#include "sim/core/error.h"
#include "sim/gpu/profile.h"
#include "sim/kernels/architecture.h"
#include "sim/kernels/lower.h"

namespace infersim::kernels {
namespace {

const std::string kSourceDir = INFERSIM_SOURCE_DIR;
const std::string kArchDir = kSourceDir + "/hardware_profiles/architectures";

const std::vector<Architecture>& all() {
  static const std::vector<Architecture> archs = load_architectures(kArchDir);
  return archs;
}

const Architecture& arch(const std::string& name) {
  for (const Architecture& a : all()) {
    if (a.name == name) return a;
  }
  throw std::runtime_error("no architecture " + name);
}

const Layer& layer(const std::string& a, const std::string& name) {
  return arch(a).layer(arch(a).find(name));
}

std::vector<std::string> input_names(const std::string& a, const std::string& name) {
  std::vector<std::string> out;
  for (const LayerId u : arch(a).inputs_of(arch(a).find(name)))
    out.push_back(arch(a).layer(u).name);
  return out;
}

TEST(KernelGraph, ResNet50Conv1IsA64By147Im2colGemm) {
  // conv1: 3 -> 64 channels, 7x7, stride 2, pad 3 on 224x224: H_out = (224 + 6 - 7) / 2 + 1
  // = 112. im2col: M = C_out = 64, K = C_in * 7 * 7 = 147, N = b * 112 * 112 = b * 12544.
  const Layer& l = layer("resnet50_v1", "conv1");
  EXPECT_EQ(l.output, (Shape{64, 112, 112}));
  EXPECT_EQ(l.gemm.m, 64);
  EXPECT_EQ(l.gemm.k, 147);
  EXPECT_EQ(l.gemm.n(1), 12544);
  EXPECT_EQ(l.gemm.n(8), 8 * 12544);
  EXPECT_EQ(l.gemm.groups, 1);
  // 2 * 64 * 12544 * 147 = 236,027,904 FLOPs per sample.
  EXPECT_DOUBLE_EQ(l.flops, 236027904.0);
}

TEST(KernelGraph, StrideSitsInTheFirst1x1ForV1AndInThe3x3ForV1bAndV2) {
  // Stage 2's first bottleneck maps 256 x 56x56 to 512 x 28x28 (width 128).
  // v1 (He et al.): conv1 1x1 stride 2 -> N per sample 28*28 = 784, K = 256.
  EXPECT_EQ(layer("resnet50_v1", "stage2.block1.conv1").gemm.n_per_sample, 784);
  EXPECT_EQ(layer("resnet50_v1", "stage2.block1.conv1").gemm.k, 256);
  EXPECT_EQ(layer("resnet50_v1", "stage2.block1.conv2").gemm.n_per_sample, 784);
  // v1b / v2: conv1 1x1 stride 1 at 56*56 = 3136, conv2 3x3 stride 2 -> 784, K = 128*9.
  for (const char* a : {"resnet50_v1b", "resnet50_v2"}) {
    EXPECT_EQ(layer(a, "stage2.block1.conv1").gemm.n_per_sample, 3136) << a;
    EXPECT_EQ(layer(a, "stage2.block1.conv2").gemm.n_per_sample, 784) << a;
    EXPECT_EQ(layer(a, "stage2.block1.conv2").gemm.k, 1152) << a;
  }
}

TEST(KernelGraph, ResNeXtConvIsGroupedIntoThirtyTwoProblems) {
  // ResNeXt-50 32x4d stage 1: the 3x3 conv has 32 groups of 4 channels over 128 channels.
  // Per group: M = 128 / 32 = 4, K = (128 / 32) * 3 * 3 = 36, N = 56 * 56 = 3136.
  // FLOPs = 2 * 4 * 3136 * 36 * 32 = 28,901,376.
  const Layer& l = layer("resnext50_32x4d", "stage1.block1.conv2");
  EXPECT_EQ(l.gemm.m, 4);
  EXPECT_EQ(l.gemm.k, 36);
  EXPECT_EQ(l.gemm.n_per_sample, 3136);
  EXPECT_EQ(l.gemm.groups, 32);
  EXPECT_DOUBLE_EQ(l.flops, 28901376.0);
}

TEST(KernelGraph, FcIsAnMByBatchGemm) {
  // ResNet-50's classifier: 2048 features -> 1000 classes: M = 1000, K = 2048, N = batch.
  const Layer& l = layer("resnet50_v1", "fc");
  EXPECT_EQ(l.gemm.m, 1000);
  EXPECT_EQ(l.gemm.k, 2048);
  EXPECT_EQ(l.gemm.n(16), 16);
  // Weights 2048 * 1000 + 1000 bias floats.
  EXPECT_DOUBLE_EQ(l.weight_bytes, (2048.0 * 1000 + 1000) * 4);
}

TEST(KernelGraph, EveryLayerComesAfterItsInputsInTheTopologicalOrder) {
  for (const Architecture& a : all()) {
    ASSERT_EQ(a.order.size(), a.size()) << a.name;
    std::vector<std::size_t> pos(a.size(), a.size());
    for (std::size_t i = 0; i < a.order.size(); ++i) pos[a.order[i]] = i;
    for (LayerId v = 0; v < a.size(); ++v) {
      ASSERT_LT(pos[v], a.size()) << a.name << ": layer missing from the order";
      for (const LayerId u : a.inputs_of(v)) {
        EXPECT_LT(pos[u], pos[v]) << a.name << ": " << a.layer(u).name << " -> " << a.layer(v).name;
      }
    }
    EXPECT_EQ(a.layer(a.order.front()).kind, LayerKind::kInput) << a.name;
  }
}

TEST(KernelGraph, ResNetShortcutsAreEdges) {
  // Projection shortcut: the add reads the body's last BN and the downsample conv's BN.
  EXPECT_EQ(input_names("resnet50_v1", "stage1.block1.add"),
            (std::vector<std::string>{"stage1.block1.conv3.bn", "stage1.block1.downsample.bn"}));
  // Identity shortcut: block 2 adds block 1's output (its ReLU) to its body.
  EXPECT_EQ(input_names("resnet50_v1", "stage1.block2.add"),
            (std::vector<std::string>{"stage1.block2.conv3.bn", "stage1.block1.relu"}));
  // The block input feeds both the body and the shortcut.
  const Architecture& a = arch("resnet50_v1");
  EXPECT_EQ(a.consumers_of(a.find("stage1.block1.relu")).size(), 2u);
  // v2 (pre-activation): the projection reads the pre-activated input; identity shortcuts
  // skip the pre-activation and read the previous add.
  EXPECT_EQ(input_names("resnet50_v2", "stage2.block1.downsample"),
            (std::vector<std::string>{"stage2.block1.preact.relu"}));
  EXPECT_EQ(input_names("resnet50_v2", "stage2.block2.add"),
            (std::vector<std::string>{"stage2.block2.conv3", "stage2.block1.add"}));
}

TEST(KernelGraph, DenseNetConcatenatesEachLayerOntoItsInput) {
  // Block 1 starts from pool0's 64 channels; each layer concatenates 32 (growth) more.
  EXPECT_EQ(input_names("densenet121", "block1.layer1.concat"),
            (std::vector<std::string>{"pool0", "block1.layer1.conv2"}));
  EXPECT_EQ(input_names("densenet121", "block1.layer2.concat"),
            (std::vector<std::string>{"block1.layer1.concat", "block1.layer2.conv2"}));
  EXPECT_EQ(layer("densenet121", "block1.layer1.concat").output, (Shape{96, 56, 56}));
  // 6 layers: 64 + 6 * 32 = 256 channels; the transition halves it to 128 at 28x28.
  EXPECT_EQ(layer("densenet121", "block1.layer6.concat").output, (Shape{256, 56, 56}));
  EXPECT_EQ(layer("densenet121", "transition1.pool").output, (Shape{128, 28, 28}));
  // Block 4: 512 + 16 * 32 = 1024 channels at 7x7.
  EXPECT_EQ(layer("densenet121", "block4.layer16.concat").output, (Shape{1024, 7, 7}));
  // The 1x1 bottleneck's im2col K grows with the concatenated input: 96 in layer 2.
  EXPECT_EQ(layer("densenet121", "block1.layer2.conv1").gemm.k, 96);
}

TEST(KernelGraph, InceptionBranchesMeetInAConcat) {
  // GoogLeNet 3a at 28x28: branches of 64, 128, 32 and 32 channels -> 256.
  EXPECT_EQ(input_names("googlenet", "inception3a.concat"),
            (std::vector<std::string>{"inception3a.b1.relu", "inception3a.b2b.relu",
                                      "inception3a.b3b.relu", "inception3a.b4.relu"}));
  EXPECT_EQ(layer("googlenet", "inception3a.concat").output, (Shape{256, 28, 28}));
  // Ceil-mode pools: 112 -> ceil((112 - 3) / 2) + 1 = 56 -> 28 -> 14; the 2x2 pool -> 7.
  EXPECT_EQ(layer("googlenet", "pool1").output.h, 56);
  EXPECT_EQ(layer("googlenet", "pool2").output.h, 28);
  EXPECT_EQ(layer("googlenet", "pool3").output.h, 14);
  EXPECT_EQ(layer("googlenet", "pool4").output.h, 7);
  // Inception v3 at 299x299: A blocks 64 + 64 + 96 + 32 = 256 at 35x35; B 384 + 96 + 288
  // = 768 at 17x17; D 320 + 192 + 768 = 1280 at 8x8; E 320 + 768 + 768 + 192 = 2048.
  EXPECT_EQ(layer("inceptionv3", "mixed_a1.concat").output, (Shape{256, 35, 35}));
  EXPECT_EQ(layer("inceptionv3", "mixed_b.concat").output, (Shape{768, 17, 17}));
  EXPECT_EQ(layer("inceptionv3", "mixed_d.concat").output, (Shape{1280, 8, 8}));
  EXPECT_EQ(layer("inceptionv3", "mixed_e2.concat").output, (Shape{2048, 8, 8}));
  // A 1x7 conv: K = 128 * 1 * 7.
  EXPECT_EQ(layer("inceptionv3", "mixed_c1.b2b").gemm.k, 896);
}

// Published FLOPs per inference (batch 1), as GFLOP = 2 x multiply-adds, of conv + FC layers.
struct Published {
  const char* arch;
  double gflop;
};
const Published kPublished[] = {
    // torchvision weight metadata (GMACs per image): resnet18 1.814, resnet34 3.664 (basic
    // blocks, the same in GluonCV v1, v1b and v2). He et al. 2016 Table 1: 1.8 / 3.6 x 1e9.
    {"resnet18_v1", 3.628},
    {"resnet18_v1b", 3.628},
    {"resnet18_v2", 3.628},
    {"resnet34_v1", 7.328},
    {"resnet34_v1b", 7.328},
    {"resnet34_v2", 7.328},
    // He et al. 2016 Table 1 (stride in the first 1x1): 3.8 / 7.6 / 11.3 x 1e9 multiply-adds.
    {"resnet50_v1", 7.6},
    {"resnet101_v1", 15.2},
    {"resnet152_v1", 22.6},
    // torchvision (stride in the 3x3; the same convolutions as GluonCV v1b and v2):
    // resnet50 4.089, resnet101 7.801, resnet152 11.514 GMACs.
    {"resnet50_v1b", 8.178},
    {"resnet50_v2", 8.178},
    {"resnet101_v1b", 15.602},
    {"resnet101_v2", 15.602},
    {"resnet152_v1b", 23.028},
    {"resnet152_v2", 23.028},
    // torchvision: densenet121 2.834, densenet161 7.728, densenet169 3.36, densenet201 4.291,
    // googlenet 1.498, inception_v3 5.713 (at 299x299), resnext50_32x4d 4.23 (Xie et al.
    // 2017 Table 1: 4.2e9), resnext101_64x4d 15.46 GMACs.
    {"densenet121", 5.668},
    {"densenet161", 15.456},
    {"densenet169", 6.72},
    {"densenet201", 8.582},
    {"googlenet", 2.996},
    {"inceptionv3", 11.426},
    {"resnext50_32x4d", 8.46},
    {"resnext101_64x4d", 30.92},
    // The Clockwork profile's sourced gflop (MMClassification: 8.03 GMACs).
    {"resnext101_32x4d", 16.06},
    // WRN-16-10 (32x32 input, widths 160/320/640, 2 blocks per stage), by hand in MACs:
    //   conv0 16*27*1024 = 442,368;
    //   stage 1 (1024 positions): block 1 = 160*144*1024 (3x3 16->160) + 160*1440*1024
    //     (3x3 160->160) + 160*16*1024 (1x1 projection) = 23,592,960 + 235,929,600 +
    //     2,621,440; block 2 = 2*160*1440*1024 = 471,859,200; together 734,003,200;
    //   stage 2 (256): 320*1440*256 + 320*2880*256 + 320*160*256 + 2*320*2880*256
    //     = 117,964,800 + 235,929,600 + 13,107,200 + 471,859,200 = 838,860,800;
    //   stage 3 (64): the same 838,860,800; fc 640*10 = 6,400.
    //   Total 2,412,173,568 MACs = 4.8243 GFLOP.
    {"cifar_wideresnet16_10", 4.8243},
    // WRN-28-10 (4 blocks per stage): stage 1 = 23,592,960 + 235,929,600 + 2,621,440 +
    //   3 * 471,859,200 = 1,677,721,600; stages 2 and 3 = 117,964,800 + 235,929,600 +
    //   13,107,200 + 1,415,577,600 = 1,782,579,200 each; + 442,368 + 6,400
    //   = 5,243,328,768 MACs = 10.4867 GFLOP.
    {"cifar_wideresnet28_10", 10.4867},
    // WRN-40-8 (6 blocks per stage, widths 128/256/512): stage 1 = 128*144*1024 +
    //   128*1152*1024 + 16*128*1024 + 5 * 2 * 128*1152*1024 = 18,874,368 + 150,994,944 +
    //   2,097,152 + 1,509,949,440 = 1,681,915,904; stages 2 and 3 = 75,497,472 +
    //   150,994,944 + 8,388,608 + 1,509,949,440 = 1,744,830,464 each; + 442,368 + 5,120
    //   = 5,172,024,320 MACs = 10.3440 GFLOP.
    {"cifar_wideresnet40_8", 10.3440},
    // Seed 003 Table 1's SGEMM problems, 2 * M * N * K: 2 * 512 * 1 * 512 = 524,288;
    // 2 * 256 * 128 * 1152 = 75,497,472; 2 * 256^3 = 33,554,432.
    {"sgemm_rnn", 0.000524288},
    {"sgemm_conv2_2", 0.075497472},
    {"sgemm_square", 0.033554432},
};

TEST(KernelGraph, FlopsMatchPublishedCountsWithinTwoPercent) {
  std::size_t checked = 0;
  for (const Published& p : kPublished) {
    const double gflop = arch(p.arch).gemm_flops() / 1e9;
    EXPECT_NEAR(gflop / p.gflop, 1.0, 0.02) << p.arch << ": " << gflop << " vs " << p.gflop;
    ++checked;
  }
  // Every architecture file is checked.
  EXPECT_EQ(checked, all().size());
}

TEST(KernelGraph, WeightsMatchTheClockworkTableWithinTwoPercent) {
  // An independent check of each variant: its parameter bytes (fp32; conv/FC weights and
  // biases, 4 floats per batch-norm channel) against the table's weights_mb (seed 000).
  const Profile cw = load_profile(kSourceDir + "/hardware_profiles/v100_clockwork.yaml");
  std::size_t rows = 0;
  for (const Architecture& a : all()) {
    for (const std::string& row : a.clockwork) {
      const ModelProfile* m = cw.find(row);
      ASSERT_NE(m, nullptr) << a.name << " maps to missing row " << row;
      EXPECT_NEAR(a.weight_bytes() / 1e6 / m->weights_mb, 1.0, 0.02) << row;
      ++rows;
    }
  }
  EXPECT_EQ(rows, 27u);
}

// Writes an architecture file and removes it at the end of the test.
class ArchFile {
 public:
  explicit ArchFile(const std::string& layers,
                    const std::string& head = "name: toy\ninput: [3, 8, 8]\n") {
    path_ =
        std::filesystem::temp_directory_path() / ("infersim_arch_" + std::to_string(::getpid()) +
                                                  "_" + std::to_string(counter_++) + ".yaml");
    std::ofstream(path_) << head << "layers:\n" << layers;
  }
  ~ArchFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
  static inline int counter_ = 0;
};

std::string load_error(const std::string& layers,
                       const std::string& head = "name: toy\ninput: [3, 8, 8]\n") {
  const ArchFile f(layers, head);
  try {
    load_architecture(f.path());
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(KernelGraph, LoaderBuildsASmallGraph) {
  const ArchFile f(
      "  - {name: c, op: conv, in: [data], out: 4, k: 3, p: 1}\n"
      "  - {name: r, op: relu, in: [c]}\n"
      "  - {name: s, op: add, in: [c, r]}\n"
      "  - {name: cat, op: concat, in: [s, data]}\n");
  const Architecture a = load_architecture(f.path());
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a.layer(a.find("cat")).output, (Shape{7, 8, 8}));
  // conv 3 -> 4, 3x3, pad 1: 2 * 4 * 64 * 27 = 13,824 FLOPs.
  EXPECT_DOUBLE_EQ(a.layer(a.find("c")).flops, 13824.0);
}

TEST(KernelGraph, LoaderErrorsNameFileLineAndWhat) {
  // The first layer is on line 4 of the file (name, input, layers come first).
  const std::string conv = "  - {name: c, op: conv, in: [data], out: 4, k: 3, p: 1}\n";
  auto expect = [](const std::string& err, const std::string& where, const std::string& what) {
    EXPECT_NE(err.find(where), std::string::npos) << err;
    EXPECT_NE(err.find(what), std::string::npos) << err;
  };
  expect(load_error("  - {name: c, op: convv, in: [data]}\n"), ":4:", "unknown op 'convv'");
  expect(load_error(conv + "  - {name: r, op: relu, in: [x]}\n"),
         ":5:", "'x', which is not an earlier layer");
  expect(load_error(conv + "  - {name: s, op: add, in: [c, data]}\n"),
         ":5:", "add of different shapes");
  expect(load_error(conv + "  - {name: c, op: relu, in: [c]}\n"),
         ":5:", "duplicate layer name 'c'");
  expect(load_error("  - {name: r, op: relu, in: [data], k: 3}\n"), ":4:", "unknown key 'k'");
  expect(load_error("  - {name: c, op: conv, in: [data], out: 4}\n"), ":4:", "missing key 'k'");
  expect(load_error("  - {name: c, op: conv, in: [data], out: 4, k: 1, g: 3}\n"),
         ":4:", "not divisible by groups 3");
  expect(load_error("  - {name: p, op: maxpool, in: [data], k: 9}\n"),
         ":4:", "larger than the padded input");
}

// Integer fields are read whole and range-checked (architecture.cc, Bounds): a value past
// its bound was cut to int (k: 2^32 + 1 ran as a 1x1 convolution) or overflowed the shape
// arithmetic (out: 2^62 gave negative weights). Columns are those of the value on line 4.
TEST(KernelGraph, IntegerFieldsOutsideTheirBoundsAreErrorsAtTheValue) {
  auto expect = [](const std::string& err, const std::string& where, const std::string& what) {
    EXPECT_NE(err.find(where), std::string::npos) << err;
    EXPECT_NE(err.find(what), std::string::npos) << err;
  };
  // "  - {name: c, op: conv, in: [data], out: 4, k: " is 47 characters: k's value at 48.
  const std::string conv = "  - {name: c, op: conv, in: [data], out: 4, k: ";
  expect(load_error(conv + "4294967297}\n"), ":4:48:", "expected 'k' between 1 and 65536");
  expect(load_error(conv + "[3, 4294967297]}\n"), ":4:52:", "expected 'k' between 1 and 65536");
  expect(load_error(conv + "1, s: 4294967296}\n"), ":4:54:", "expected 's' between 1 and 65536");
  expect(load_error(conv + "1, p: 4294967297}\n"), ":4:54:", "expected 'p' between 0 and 65536");
  expect(load_error(conv + "1, g: 4294967297}\n"), ":4:54:", "expected 'g' between 1 and 1048576");
  // "  - {name: c, op: conv, in: [data], out: " is 41 characters.
  expect(load_error("  - {name: c, op: conv, in: [data], out: 4611686018427387904, k: 1}\n"),
         ":4:42:", "expected 'out' between 1 and 1048576");
  expect(load_error("  - {name: f, op: fc, in: [data], out: 9223372036854775807}\n"),
         ":4:40:", "expected 'out' between 1 and 1048576");
  // input: [3, 8, 2097152]: the third value at column 15 of line 2.
  expect(load_error("  - {name: r, op: relu, in: [data]}\n", "name: toy\ninput: [3, 8, 2097152]\n"),
         ":2:15:", "expected 'input' between 1 and 65536");
}

// Derived counts are checked too: each field within its bound, a product may still pass
// 2^40 elements per sample (kMaxLayerCount), where int64 shape arithmetic would soon wrap.
TEST(KernelGraph, LayersPastTwoToTheFortyElementsAreErrorsAtTheirLine) {
  auto expect = [](const std::string& err, const std::string& where, const std::string& what) {
    EXPECT_NE(err.find(where), std::string::npos) << err;
    EXPECT_NE(err.find(what), std::string::npos) << err;
  };
  // 65536^3 = 2^48 input elements: at `input` (line 2, column 8), not "must be positive".
  expect(load_error("  - {name: r, op: relu, in: [data]}\n",
                    "name: toy\ninput: [65536, 65536, 65536]\n"),
         ":2:8:", "input of more than 2^40 elements");
  // 1 x 65536 x 65536 = 2^32 elements, a 1x1 convolution to 2^20 channels: 2^52 outputs.
  const std::string big = "name: toy\ninput: [1, 65536, 65536]\n";
  expect(load_error("  - {name: c, op: conv, in: [data], out: 1048576, k: 1}\n", big),
         ":4:", "layer 'c': output of more than 2^40 elements");
  // 2^20 channels of 2^10 x 2^10 = 2^40 elements, then a concat with itself: 2^41.
  expect(load_error("  - {name: c, op: conv, in: [data], out: 1048576, k: 1}\n"
                    "  - {name: cat, op: concat, in: [c, c]}\n",
                    "name: toy\ninput: [1, 1024, 1024]\n"),
         ":5:", "layer 'cat': output of more than 2^40 elements");
}

// A GEMM of more than 2^53 columns (batch x H_out x W_out) is outside the model's range: an
// error the callers report at the architecture, never a wrapped count.
TEST(KernelGraph, LoweringPastTwoToTheFiftyThreeColumnsIsOutOfRange) {
  // A 1x1 convolution over 1 x 65536 x 65536: 2^32 columns per sample.
  const ArchFile f("  - {name: c, op: conv, in: [data], out: 1, k: 1}\n",
                   "name: toy\ninput: [1, 65536, 65536]\n");
  const Architecture a = load_architecture(f.path());
  EXPECT_EQ(lower(a, std::int64_t{1} << 21).front().n, std::int64_t{1} << 53);  // 2^21 x 2^32
  EXPECT_THROW(lower(a, (std::int64_t{1} << 21) + 1), OutOfModelRange);
}

// A directory of architecture files, removed at the end of the test.
class ArchDir {
 public:
  ArchDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("infersim_archdir_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~ArchDir() { std::filesystem::remove_all(path_); }
  std::string add(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }
  std::string path() const { return path_.string(); }
  std::string dir_error() const {
    try {
      load_architectures(path());
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }

 private:
  std::filesystem::path path_;
  static inline int counter_ = 0;
};

const char* const kToyLayers = "input: [3, 8, 8]\nlayers:\n  - {name: r, op: relu, in: [data]}\n";

// Models are looked up by name, then by Clockwork row (find_for_model): a second file with
// a name or row another file claims would shadow it, or be shadowed, depending on the sort
// order of paths. It is an error at the second claim, naming the first.
TEST(KernelGraph, TwoFilesClaimingOneNameOrRowAreAnError) {
  {
    ArchDir d;
    const std::string a = d.add("a.yaml", std::string("name: toy\n") + kToyLayers);
    const std::string b = d.add("b.yaml", std::string("name: toy\n") + kToyLayers);
    const std::string err = d.dir_error();
    // "name: " is 6 characters: the name at 1:7 in both.
    EXPECT_NE(err.find(b + ":1:7: architecture 'toy' is already defined at " + a + ":1:7"),
              std::string::npos)
        << err;
  }
  {
    ArchDir d;
    const std::string a = d.add("a.yaml", std::string("name: x\nclockwork: [row]\n") + kToyLayers);
    const std::string b = d.add("b.yaml", std::string("name: row\n") + kToyLayers);
    const std::string err = d.dir_error();
    // "clockwork: [" is 12 characters: the row at 2:13.
    EXPECT_NE(err.find(b + ":1:7: architecture 'row' is already defined at " + a + ":2:13"),
              std::string::npos)
        << err;
  }
  {
    ArchDir d;
    const std::string a = d.add("a.yaml", std::string("name: x\nclockwork: [row]\n") + kToyLayers);
    const std::string b = d.add("b.yaml", std::string("name: y\nclockwork: [row]\n") + kToyLayers);
    const std::string err = d.dir_error();
    EXPECT_NE(err.find(b + ":2:13: Clockwork row 'row' is already defined at " + a + ":2:13"),
              std::string::npos)
        << err;
  }
  {
    // A file's own name among its rows (every shipped file does this) is one claim.
    ArchDir d;
    d.add("a.yaml", std::string("name: x\nclockwork: [x]\n") + kToyLayers);
    EXPECT_EQ(d.dir_error(), "");
  }
}

// Every problem with an architecture file is one file:line:col line (InputError), whole-file
// problems at 1:1 as read_input_file reports them.
TEST(KernelGraph, MalformedFilesAreInputErrorsWithAPosition) {
  {
    ArchDir d;
    const std::string f = d.add("toy.yaml", "");
    const std::string err = d.dir_error();
    EXPECT_NE(err.find(f + ":1:1: the file is empty"), std::string::npos) << err;
  }
  {
    ArchDir d;
    std::filesystem::create_directory(d.path() + "/x.yaml");
    const std::string err = d.dir_error();
    EXPECT_NE(err.find(d.path() + "/x.yaml:1:1: is a directory"), std::string::npos) << err;
  }
  // A list as a key: at the key (line 4, column 37), not yaml-cpp's "bad conversion".
  const std::string err = load_error("  - {name: r, op: relu, in: [data], [x]: 1}\n");
  EXPECT_NE(err.find(":4:37: expected a key name in the relu layer, got a list"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace infersim::kernels
