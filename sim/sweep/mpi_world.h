// Optional MPI: `mpirun -np K infersim run ...` deals a sweep's runs to the ranks. MPI is
// started only when the process was launched by mpirun (its environment says so) and
// infersim was built with MPI (find_package(MPI) at configure time); otherwise the world
// is one rank and every call here is a no-op.
#pragma once

#include <cstdint>
#include <string>

namespace infersim {

class MpiWorld {
 public:
  // Starts MPI if launched by mpirun. Throws std::runtime_error when launched by mpirun
  // (several ranks) but built without MPI: each rank would run the whole sweep.
  MpiWorld();
  // Finalizes MPI; aborts every rank instead when an exception is escaping (another rank
  // could be waiting for this one).
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Ranks of this job on this machine (for the default -j).
  int local_size() const { return local_size_; }

  // Element-wise sum / max over all ranks, in place.
  void sum(std::int64_t* values, int n);
  std::int64_t max(std::int64_t value);
  std::int64_t min(std::int64_t value);

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_size_ = 1;
  bool active_ = false;
  int uncaught_ = 0;
};

// Whether this binary was built with MPI, and whether mpirun launched this process.
bool mpi_built();
bool mpi_launched();

}  // namespace infersim
