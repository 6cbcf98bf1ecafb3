#include "sim/sweep/mpi_world.h"

#include <cstdlib>
#include <exception>
#include <stdexcept>

#ifdef INFERSIM_HAVE_MPI
// The C API only: without these, OpenMPI's mpi.h pulls in its (deprecated) C++ bindings.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace infersim {
namespace {

int env_int(const char* name, int def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  return std::atoi(v);
}

// World size as the launcher announces it (OpenMPI, MPICH/Hydra, PMIx); 0 if none.
int launcher_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"}) {
    int n = env_int(name, 0);
    if (n > 0) return n;
  }
  return 0;
}

}  // namespace

bool mpi_built() {
#ifdef INFERSIM_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool mpi_launched() { return launcher_size() > 0 || std::getenv("PMIX_RANK") != nullptr; }

MpiWorld::MpiWorld() : uncaught_(std::uncaught_exceptions()) {
  if (!mpi_launched()) return;
#ifdef INFERSIM_HAVE_MPI
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  active_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  local_size_ = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", 1));
  if (local_size_ < 1) local_size_ = 1;
#else
  if (launcher_size() > 1) {
    throw std::runtime_error(
        "launched by mpirun, but this infersim was built without MPI (install libopenmpi-dev "
        "and rebuild), so every rank would run the whole sweep; use --shard I/N instead");
  }
#endif
}

MpiWorld::~MpiWorld() {
#ifdef INFERSIM_HAVE_MPI
  if (!active_) return;
  if (std::uncaught_exceptions() > uncaught_ && size_ > 1) {
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
#endif
}

void MpiWorld::sum(std::int64_t* values, int n) {
#ifdef INFERSIM_HAVE_MPI
  if (active_) MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)values;
  (void)n;
#endif
}

std::int64_t MpiWorld::max(std::int64_t value) {
#ifdef INFERSIM_HAVE_MPI
  if (active_) MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
#endif
  return value;
}

std::int64_t MpiWorld::min(std::int64_t value) {
#ifdef INFERSIM_HAVE_MPI
  if (active_) MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
#endif
  return value;
}

}  // namespace infersim
