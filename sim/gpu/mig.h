// MIG layouts: which sets of GPU-instance profiles a GPU can be cut into at once, and where
// each instance sits (NVIDIA MIG user guide: an instance may only be created at the
// placements `nvidia-smi mig -lgipp` lists for its profile; instances may not overlap).
//
// A placement is a start on the GPU's memory-slice axis (8 slices on A100/H100/H200) and the
// profile's memory_slices from there; a layout is valid when every instance gets one of its
// profile's placements, no two overlap, and their compute slices add up to at most the GPU's.
// The search is exhaustive (at most 8 instances, a handful of starts each), so a layout is
// refused only when no placement exists: what the driver's own placement would allow.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/gpu/profile.h"

namespace infersim {

// One instance of a layout: its profile and the first memory slice it occupies.
struct MigPlacement {
  const MigProfile* profile = nullptr;
  int start = 0;
};

// Places `layout` (profiles, in the order given) on `mig`; the result is in the same order.
// nullopt when no valid placement exists.
std::optional<std::vector<MigPlacement>> place_mig_layout(
    const MigSpec& mig, const std::vector<const MigProfile*>& layout);

// Every maximal valid layout (one to which no further instance fits), each as profile names
// joined by '+', largest profile first; sorted. What an error lists as the valid layouts.
std::vector<std::string> maximal_mig_layouts(const MigSpec& mig);

}  // namespace infersim
