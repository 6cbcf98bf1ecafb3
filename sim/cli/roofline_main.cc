// infersim_roofline: roofline L(b) predictions for every profiled model with a kernel graph,
// against the profile's measurements.
//
//   infersim_roofline [--profile P.yaml] [--gpus G.yaml] [--gpu NAME] [--arch DIR]
//                     [--batches 1,2,4,8,16] [--unfused]
//   infersim_roofline --graph MODEL [--batch B] [--gpu NAME] ...
//
// The first form compares every model's predicted L(b) with the profile; the second prints
// one model's layer table and its kernels at batch B (MODEL: an architecture or a profile
// row it maps to). Defaults: the Clockwork V100 table, hardware_profiles/gpus.yaml, the
// profile's GPU, hardware_profiles/architectures, batch 1. Exit status 2 on bad input.
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/config/hardware_files.h"
#include "sim/core/error.h"
#include "sim/gpu/profile.h"
#include "sim/kernels/architecture.h"
#include "sim/kernels/roofline_report.h"

int main(int argc, char** argv) {
  using namespace infersim;
  using namespace infersim::kernels;
  const std::string data = INFERSIM_DATA_DIR;
  std::string profile_path = data + "/hardware_profiles/v100_clockwork.yaml";
  std::string gpus_path = data + "/hardware_profiles/gpus.yaml";
  std::string arch_dir = data + "/hardware_profiles/architectures";
  std::string gpu_name;
  std::vector<int> batches = {1, 2, 4, 8, 16};
  std::string graph;
  int batch = 1;
  LowerOptions options;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--profile") {
        profile_path = value();
      } else if (a == "--gpus") {
        gpus_path = value();
      } else if (a == "--gpu") {
        gpu_name = value();
      } else if (a == "--arch") {
        arch_dir = value();
      } else if (a == "--batches") {
        batches.clear();
        std::stringstream ss(value());
        for (std::string item; std::getline(ss, item, ',');) {
          const int b = std::stoi(item);
          if (b < 1) throw std::invalid_argument("batches must be >= 1");
          batches.push_back(b);
        }
      } else if (a == "--graph") {
        graph = value();
      } else if (a == "--batch") {
        batch = std::stoi(value());
        if (batch < 1) throw std::invalid_argument("--batch must be >= 1");
      } else if (a == "--unfused") {
        options.fuse_elementwise = false;
      } else {
        throw std::invalid_argument("unknown argument " + a);
      }
    }
    const Profile profile = load_profile(profile_path);
    const std::vector<GpuSpec> gpus = load_gpus(gpus_path);
    if (gpu_name.empty()) gpu_name = profile.gpu;
    const GpuSpec* gpu = find_gpu(gpus, gpu_name);
    if (gpu == nullptr) throw std::invalid_argument("no GPU '" + gpu_name + "' in " + gpus_path);
    const std::vector<Architecture> archs = load_architectures(arch_dir);
    if (!graph.empty()) {
      const Architecture* arch = find_for_model(archs, graph);
      for (const Architecture& x : archs) {
        if (x.name == graph) arch = &x;
      }
      if (arch == nullptr) throw std::invalid_argument("no architecture for '" + graph + "'");
      print_layers(*arch, std::cout);
      std::cout << "\n";
      print_kernels(*arch, lower(*arch, batch, options), default_kernel_params(*gpu), std::cout);
      return 0;
    }
    const RooflineReport rep =
        compare_with_profile(archs, profile, default_kernel_params(*gpu), batches, options);
    print_report(rep, std::cout);
    return 0;
  } catch (const InputError& e) {
    std::cerr << "infersim_roofline: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "infersim_roofline: " << e.what() << "\n";
    return 2;
  }
}
