#include "sim/gpu/mig.h"

#include <algorithm>
#include <numeric>
#include <set>

namespace infersim {
namespace {

// Memory slices [start, start + size) as a bit mask.
unsigned slice_mask(int start, int size) { return ((1u << size) - 1u) << start; }

// Depth-first search over the instances in `order`, each at one of its starts.
bool place_from(const MigSpec& mig, const std::vector<const MigProfile*>& layout,
                const std::vector<std::size_t>& order, std::size_t k, unsigned used,
                std::vector<int>& starts) {
  if (k == order.size()) return true;
  const MigProfile& p = *layout[order[k]];
  for (const int s : p.starts) {
    if (s < 0 || s + p.memory_slices > mig.memory_slices) continue;
    const unsigned m = slice_mask(s, p.memory_slices);
    if (used & m) continue;
    starts[order[k]] = s;
    if (place_from(mig, layout, order, k + 1, used | m, starts)) return true;
  }
  return false;
}

}  // namespace

const MigProfile* MigSpec::find(const std::string& name) const {
  for (const auto& p : profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::optional<std::vector<MigPlacement>> place_mig_layout(
    const MigSpec& mig, const std::vector<const MigProfile*>& layout) {
  if (mig.compute_slices <= 0 || layout.empty()) return std::nullopt;
  int compute = 0;
  for (const MigProfile* p : layout) compute += p->compute_slices;
  if (compute > mig.compute_slices) return std::nullopt;
  // Largest first: the most constrained placements are tried before the flexible ones.
  std::vector<std::size_t> order(layout.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return layout[a]->memory_slices > layout[b]->memory_slices;
  });
  std::vector<int> starts(layout.size(), 0);
  if (!place_from(mig, layout, order, 0, 0u, starts)) return std::nullopt;
  std::vector<MigPlacement> out;
  for (std::size_t i = 0; i < layout.size(); ++i) out.push_back({layout[i], starts[i]});
  return out;
}

std::vector<std::string> maximal_mig_layouts(const MigSpec& mig) {
  // Profiles by size, largest first, so each layout is enumerated once (non-increasing index
  // order) and written largest first.
  std::vector<const MigProfile*> by_size;
  for (const auto& p : mig.profiles) by_size.push_back(&p);
  std::stable_sort(by_size.begin(), by_size.end(), [](const MigProfile* a, const MigProfile* b) {
    return std::pair(a->compute_slices, a->memory_slices) >
           std::pair(b->compute_slices, b->memory_slices);
  });
  std::set<std::string> out;
  std::vector<const MigProfile*> layout;
  auto fits = [&](const MigProfile* extra) {
    layout.push_back(extra);
    const bool ok = place_mig_layout(mig, layout).has_value();
    layout.pop_back();
    return ok;
  };
  auto visit = [&](auto&& self, std::size_t from) -> void {
    bool extended = false;
    for (std::size_t i = from; i < by_size.size(); ++i) {
      if (!fits(by_size[i])) continue;
      extended = true;
      layout.push_back(by_size[i]);
      self(self, i);
      layout.pop_back();
    }
    if (extended || layout.empty()) return;
    // Maximal only if no profile at all (not just the smaller ones) can be added.
    for (const MigProfile* p : by_size) {
      if (fits(p)) return;
    }
    std::string name;
    for (const MigProfile* p : layout) name += (name.empty() ? "" : "+") + p->name;
    out.insert(name);
  };
  visit(visit, 0);
  return {out.begin(), out.end()};
}

}  // namespace infersim
