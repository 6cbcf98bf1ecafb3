// Lowering kernel graphs to kernel calls (sim/kernels/lower.h): kernel counts with and
// without epilogue fusion, GEMM shapes and bytes at a batch, and execution order.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/kernels/architecture.h"
#include "sim/kernels/lower.h"

namespace infersim::kernels {
namespace {

const Architecture& arch(const std::string& name) {
  static std::map<std::string, Architecture> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    it = cache
             .emplace(name, load_architecture(std::string(INFERSIM_SOURCE_DIR) +
                                              "/hardware_profiles/architectures/" + name + ".yaml"))
             .first;
  }
  return it->second;
}

std::size_t count(const std::vector<KernelCall>& calls, KernelCall::Kind kind) {
  return static_cast<std::size_t>(std::count_if(
      calls.begin(), calls.end(), [&](const KernelCall& c) { return c.kind == kind; }));
}

const KernelCall& call_for(const Architecture& a, const std::vector<KernelCall>& calls,
                           const std::string& node) {
  const auto id = static_cast<std::uint32_t>(a.find(node));
  for (const KernelCall& c : calls) {
    if (c.node == id) return c;
  }
  throw std::runtime_error("no call for " + node);
}

TEST(KernelLowering, ResNet50V1FusesEveryElementwiseLayerIntoItsConv) {
  // 53 convolutions (conv1, 16 bottlenecks x 3, 4 projections) + the FC are GEMMs; BN, ReLU
  // and every residual add fold into the conv before them; the max pool and the global pool
  // are memory kernels: 54 + 2 = 56 launches.
  const std::vector<KernelCall> calls = lower(arch("resnet50_v1"), 1);
  EXPECT_EQ(calls.size(), 56u);
  EXPECT_EQ(count(calls, KernelCall::Kind::kGemm), 54u);
  EXPECT_EQ(count(calls, KernelCall::Kind::kMemory), 2u);
}

TEST(KernelLowering, WithoutFusionEveryLayerIsAKernel) {
  const Architecture& a = arch("resnet50_v1");
  const std::vector<KernelCall> calls = lower(a, 1, LowerOptions{.fuse_elementwise = false});
  EXPECT_EQ(calls.size(), a.size() - 1);  // all but the input
  for (const KernelCall& c : calls) EXPECT_EQ(c.node, c.last_node);
}

TEST(KernelLowering, PreActivationThatFeedsAShortcutStaysAKernel) {
  // ResNet-50 v2: a block's input feeds its BN-ReLU and (identity shortcut) its add, so the
  // BN-ReLU must write its own output: one memory kernel in each of the 12 blocks without a
  // projection. In the 4 projection blocks the input has one reader and the BN-ReLU folds
  // into the kernel before it. Plus the input BN (the input comes from no kernel), the max
  // pool and the global pool: 12 + 3 = 15 memory kernels, and 53 convs + FC = 54 GEMMs.
  const std::vector<KernelCall> calls = lower(arch("resnet50_v2"), 1);
  EXPECT_EQ(count(calls, KernelCall::Kind::kMemory), 15u);
  EXPECT_EQ(count(calls, KernelCall::Kind::kGemm), 54u);
}

TEST(KernelLowering, DenseNetConcatsAreMemoryKernels) {
  // DenseNet-121: 58 dense layers (6 + 12 + 24 + 16), each 2 convs and a concat; the
  // first BN-ReLU of each layer reads a tensor the next concat also reads, so it is a kernel
  // of its own (58); the second folds into the 1x1 conv. GEMMs: 116 + 3 transition convs +
  // conv0 + FC = 121. Memory: 58 concats + 58 BN-ReLUs + max pool + 3 transition avg pools
  // + global pool = 121. Total 242.
  const std::vector<KernelCall> calls = lower(arch("densenet121"), 1);
  EXPECT_EQ(count(calls, KernelCall::Kind::kGemm), 121u);
  EXPECT_EQ(count(calls, KernelCall::Kind::kMemory), 121u);
}

TEST(KernelLowering, GemmShapeAndBytesScaleWithTheBatch) {
  const Architecture& a = arch("resnet50_v1");
  const std::vector<KernelCall> calls = lower(a, 4);
  // conv1 at batch 4: M = 64, N = 4 * 112 * 112 = 50176, K = 147.
  const KernelCall& conv1 = call_for(a, calls, "conv1");
  EXPECT_EQ(conv1.kind, KernelCall::Kind::kGemm);
  EXPECT_EQ(conv1.m, 64);
  EXPECT_EQ(conv1.n, 50176);
  EXPECT_EQ(conv1.k, 147);
  EXPECT_EQ(conv1.count, 1);
  // FLOPs 2 * 64 * 50176 * 147 = 944,111,616.
  EXPECT_DOUBLE_EQ(conv1.flops, 944111616.0);
  // Bytes: 4 * (3*224*224 + 64*112*112) * 4 B activations + 64*147 * 4 B weights
  //      = 4 * (150,528 + 802,816) * 4 + 37,632 = 15,253,504 + 37,632 = 15,291,136.
  EXPECT_DOUBLE_EQ(conv1.bytes, 15291136.0);
  // Its BN and ReLU are folded in.
  EXPECT_EQ(a.layer(conv1.last_node).name, "conv1.relu");
}

TEST(KernelLowering, AFusedResidualAddReadsTheShortcut) {
  // Stage 1 block 2's conv3 (64 -> 256, 1x1, bias, at 56x56) absorbs its BN, the add with
  // block 1's output and the ReLU. At batch 2 it moves
  //   2 * (64 + 256 + 256) * 3136 * 4 B  (its input, its output, the shortcut it adds)
  //   = 2 * 576 * 3136 * 4 = 14,450,688 B
  // plus its weights (256*64 + 256 bias) * 4 = 66,560 B: 14,517,248 B.
  const Architecture& a = arch("resnet50_v1");
  const std::vector<KernelCall> calls = lower(a, 2);
  const KernelCall& c = call_for(a, calls, "stage1.block2.conv3");
  EXPECT_DOUBLE_EQ(c.bytes, 14517248.0);
  EXPECT_EQ(a.layer(c.last_node).name, "stage1.block2.relu");
  EXPECT_DOUBLE_EQ(c.flops, 2.0 * 256 * (2 * 3136) * 64);
}

TEST(KernelLowering, GroupedConvIsOneCallOfThirtyTwoProblems) {
  const Architecture& a = arch("resnext50_32x4d");
  const std::vector<KernelCall> calls = lower(a, 2);  // outlives c (ASan: use after free)
  const KernelCall& c = call_for(a, calls, "stage1.block1.conv2");
  EXPECT_EQ(c.m, 4);
  EXPECT_EQ(c.n, 2 * 3136);
  EXPECT_EQ(c.k, 36);
  EXPECT_EQ(c.count, 32);
  EXPECT_DOUBLE_EQ(c.flops, 2.0 * 4 * 6272 * 36 * 32);
}

TEST(KernelLowering, GemmFlopsSumToTheGraphsAndCallsFollowTheirInputs) {
  for (const char* name : {"resnet50_v1", "resnet50_v2", "densenet121", "googlenet", "inceptionv3",
                           "resnext50_32x4d", "cifar_wideresnet28_10"}) {
    const Architecture& a = arch(name);
    const std::vector<KernelCall> calls = lower(a, 3);
    double gemm_flops = 0;
    // Which call computes each layer: the call whose chain node..last_node holds it.
    std::vector<int> call_of(a.size(), -1);
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const KernelCall& c = calls[i];
      if (c.kind == KernelCall::Kind::kGemm) {
        gemm_flops += c.flops;
        EXPECT_DOUBLE_EQ(c.flops, 2.0 * c.m * c.n * c.k * c.count) << name;
      }
      // Walk the fused chain: each fused layer is the only reader of the one before.
      LayerId v = c.node;
      call_of[v] = static_cast<int>(i);
      while (v != c.last_node) {
        const std::vector<LayerId> next = a.consumers_of(v);
        ASSERT_EQ(next.size(), 1u) << name << ": fused through a tensor with two readers";
        v = next[0];
        call_of[v] = static_cast<int>(i);
      }
    }
    EXPECT_NEAR(gemm_flops / (3 * a.gemm_flops()), 1.0, 1e-12) << name;
    for (LayerId v = 1; v < a.size(); ++v) {
      ASSERT_GE(call_of[v], 0) << name << ": " << a.layer(v).name << " not lowered";
      for (const LayerId u : a.inputs_of(v)) {
        if (u == 0) continue;
        EXPECT_LE(call_of[u], call_of[v]) << name << ": " << a.layer(v).name;
      }
    }
  }
}

TEST(KernelLowering, RejectsAnEmptyBatch) {
  EXPECT_THROW(lower(arch("resnet50_v1"), 0), std::invalid_argument);
}

}  // namespace
}  // namespace infersim::kernels
