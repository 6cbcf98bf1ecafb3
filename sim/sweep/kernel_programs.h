// The kernel programs of a run's tenants at kernel granularity (sim/kernels/program.h).
#pragma once

#include <memory>

#include "sim/config/experiment.h"
#include "sim/kernels/program.h"

namespace infersim {

// Tenant t's model's kernels at batch sizes 1..max_batch on `share` of the experiment's GPU:
// calibrated to the profile's L(b) (interpolated between profiled sizes as everywhere), or
// predicted when the profile is `roofline`. One program per distinct (architecture, model,
// profile latencies, GPU, share, max_batch), built once per process and shared by every
// tenant and run that needs it (sweeps run many points of one experiment). Needs
// t.architecture and the GPU's kernel_model (parse_experiment checks both at kernel
// granularity).
std::shared_ptr<const kernels::KernelProgram> kernel_program(const Experiment& x,
                                                             const TenantSpec& t, int max_batch,
                                                             const kernels::GpuShare& share = {});

}  // namespace infersim
