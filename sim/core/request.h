// A request, as the engine and policies pass it around.
#pragma once

#include <cstdint>

#include "sim/core/time.h"

namespace infersim {

// A request: when it arrived and whose it is. 16 bytes, four to a cache line. Requests are
// values, not records in a pool: a tenant's queue holds its requests, a policy moves them
// into a batch, and the batch hands them back (Engine::complete_batch, Engine::drop). So
// what a dispatch or a completion reads of a request lies in the queue's ring or the
// batch, next to its neighbours, where a record in a pool would be a cache line of its own,
// last touched when the request arrived. Its deadline is not stored: add_saturating(arrival,
// the tenant's SLO), which whoever reads it can compute (BatchHost::slo_ns).
struct Request {
  SimTime arrival = 0;
  std::uint32_t tenant = 0;
  std::uint32_t unused = 0;  // padding, kept zero so that copies hold no indeterminate bytes
};
static_assert(sizeof(Request) == 16);

}  // namespace infersim
