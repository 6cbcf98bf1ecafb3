#include "sim/results/write_driver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#if H5_VERSION_GE(1, 13, 2)
#include <H5FDdevelop.h>  // H5FD_class_t and H5FD_t moved here
#endif

namespace infersim {
namespace {

constexpr std::size_t kPage = 4096;
// The largest address an off_t reaches (sec2's limit).
constexpr haddr_t kMaxAddr = (haddr_t{1} << (8 * sizeof(off_t) - 1)) - 1;

// What H5Pset_driver stores in the property list: where to report.
struct DriverInfo {
  WriteStatus* status;
};

// One open file. `pub` must come first: HDF5 sees a pointer to it.
struct DriverFile {
  H5FD_t pub;
  int fd = -1;
  dev_t device = 0;
  ino_t inode = 0;
  haddr_t eoa = 0;  // end of the address space HDF5 has allocated
  haddr_t eof = 0;  // end of the bytes written (on disk or in the overlay)
  std::string path;
  WriteStatus* status = nullptr;
  // After a failed write: the pages HDF5 wrote that are not on disk, whole (the rest of each
  // page as the file holds it), so reads return what HDF5 wrote.
  std::unordered_map<std::uint64_t, std::unique_ptr<std::array<unsigned char, kPage>>> overlay;
  std::size_t raw_overlay_bytes = 0;
};

DriverFile* of(H5FD_t* f) { return reinterpret_cast<DriverFile*>(f); }
const DriverFile* of(const H5FD_t* f) { return reinterpret_cast<const DriverFile*>(f); }

void remember(DriverFile* f, int err, const std::string& what) {
  if (f->status != nullptr && f->status->error == 0) {
    f->status->error = err;
    f->status->what = what + " of " + f->path;
  }
}

// Reads [addr, addr + size) from the file; past its end, zeros. Returns errno or 0.
int read_disk(int fd, haddr_t addr, std::size_t size, unsigned char* buf) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, buf, size, static_cast<off_t>(addr));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) {  // end of file
      std::memset(buf, 0, size);
      return 0;
    }
    buf += n;
    addr += static_cast<haddr_t>(n);
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

// Keeps [addr, addr + size) of `buf` in the overlay.
void keep(DriverFile* f, H5FD_mem_t type, haddr_t addr, std::size_t size,
          const unsigned char* buf) {
  if (type == H5FD_MEM_DRAW) {
    if (f->raw_overlay_bytes >= kRawOverlayLimit) return;  // dropped (see the header)
    f->raw_overlay_bytes += size;
  }
  while (size > 0) {
    const std::uint64_t page = addr / kPage;
    const std::size_t offset = static_cast<std::size_t>(addr % kPage);
    const std::size_t n = std::min(size, kPage - offset);
    auto& slot = f->overlay[page];
    if (!slot) {
      slot = std::make_unique<std::array<unsigned char, kPage>>();
      (void)read_disk(f->fd, page * kPage, kPage, slot->data());  // zeros where unreadable
    }
    std::memcpy(slot->data() + offset, buf, n);
    buf += n;
    addr += n;
    size -= n;
  }
}

// ------------------------------------------------------------------------- the callbacks

void* info_get(H5FD_t* file) { return new DriverInfo{of(file)->status}; }

void* info_copy(const void* info) { return new DriverInfo(*static_cast<const DriverInfo*>(info)); }

herr_t info_free(void* info) {
  delete static_cast<DriverInfo*>(info);
  return 0;
}

H5FD_t* open_file(const char* name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
  if (name == nullptr || *name == '\0' || maxaddr == 0 || maxaddr > kMaxAddr) return nullptr;
  const auto* info = static_cast<const DriverInfo*>(H5Pget_driver_info(fapl));
  int o_flags = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
  if (flags & H5F_ACC_TRUNC) o_flags |= O_TRUNC;
  if (flags & H5F_ACC_CREAT) o_flags |= O_CREAT;
  if (flags & H5F_ACC_EXCL) o_flags |= O_EXCL;
  auto f = std::make_unique<DriverFile>();
  std::memset(&f->pub, 0, sizeof f->pub);
  f->path = name;
  f->status = info != nullptr ? info->status : nullptr;
  f->fd = ::open(name, o_flags | O_CLOEXEC, 0666);
  struct stat st {};
  if (f->fd < 0 || ::fstat(f->fd, &st) != 0) {
    if (f->status != nullptr) f->status->open_error = errno;
    if (f->fd >= 0) ::close(f->fd);
    return nullptr;
  }
  f->device = st.st_dev;
  f->inode = st.st_ino;
  f->eof = static_cast<haddr_t>(st.st_size);
  return &f.release()->pub;
}

herr_t close_file(H5FD_t* file) {
  DriverFile* f = of(file);
  if (::close(f->fd) != 0) remember(f, errno, "close");  // e.g. a delayed write error (NFS)
  delete f;
  return 0;
}

int compare(const H5FD_t* a, const H5FD_t* b) {
  const DriverFile* x = of(a);
  const DriverFile* y = of(b);
  if (x->device != y->device) return x->device < y->device ? -1 : 1;
  if (x->inode != y->inode) return x->inode < y->inode ? -1 : 1;
  return 0;
}

herr_t query(const H5FD_t*, unsigned long* flags) {
  if (flags != nullptr) {
    // As sec2 (but SWMR): metadata aggregation and accumulation, data sieving, small-data
    // aggregation, and a file format the default driver reads.
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_POSIX_COMPAT_HANDLE |
             H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
  }
  return 0;
}

haddr_t get_eoa(const H5FD_t* file, H5FD_mem_t) { return of(file)->eoa; }

herr_t set_eoa(H5FD_t* file, H5FD_mem_t, haddr_t addr) {
  of(file)->eoa = addr;
  return 0;
}

haddr_t get_eof(const H5FD_t* file, H5FD_mem_t) { return of(file)->eof; }

herr_t get_handle(H5FD_t* file, hid_t, void** handle) {
  if (handle == nullptr) return -1;
  *handle = &of(file)->fd;
  return 0;
}

herr_t read_bytes(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, void* out) {
  DriverFile* f = of(file);
  if (addr == HADDR_UNDEF || addr + size > f->eoa || addr + size < addr) return -1;
  auto* buf = static_cast<unsigned char*>(out);
  if (read_disk(f->fd, addr, size, buf) != 0) return -1;  // a read error: HDF5 reports it
  if (!f->overlay.empty()) {
    for (haddr_t a = addr; a < addr + size;) {
      const std::uint64_t page = a / kPage;
      const haddr_t page_end = std::min<haddr_t>((page + 1) * kPage, addr + size);
      auto it = f->overlay.find(page);
      if (it != f->overlay.end()) {
        std::memcpy(buf + (a - addr), it->second->data() + (a % kPage), page_end - a);
      }
      a = page_end;
    }
  }
  return 0;
}

herr_t write_bytes(H5FD_t* file, H5FD_mem_t type, hid_t, haddr_t addr, size_t size,
                   const void* in) {
  DriverFile* f = of(file);
  if (addr == HADDR_UNDEF || addr + size > f->eoa || addr + size < addr) return -1;
  const auto* buf = static_cast<const unsigned char*>(in);
  f->eof = std::max(f->eof, addr + size);
  const bool failed_before = f->status != nullptr && f->status->error != 0;
  if (!failed_before) {
    while (size > 0) {
      const ssize_t n = ::pwrite(f->fd, buf, size, static_cast<off_t>(addr));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        remember(f, n < 0 ? errno : EIO,
                 "write " + std::to_string(size) + " bytes at offset " + std::to_string(addr));
        break;
      }
      buf += n;
      addr += static_cast<haddr_t>(n);
      size -= static_cast<std::size_t>(n);
    }
  }
  if (size > 0) keep(f, type, addr, size, buf);  // what could not be written
  return 0;
}

herr_t flush(H5FD_t*, hid_t, hbool_t) { return 0; }  // pwrite has no buffer; fsync is ours

herr_t truncate(H5FD_t* file, hid_t, hbool_t) {
  DriverFile* f = of(file);
  if (f->eoa == f->eof) return 0;
  if (f->status == nullptr || f->status->error == 0) {
    if (::ftruncate(f->fd, static_cast<off_t>(f->eoa)) != 0) {
      remember(f, errno, "truncate to " + std::to_string(f->eoa) + " bytes");
    }
  }
  f->eof = f->eoa;
  return 0;
}

const H5FD_class_t kDriver = {
#if H5_VERSION_GE(1, 13, 2)
    .version = H5FD_CLASS_VERSION,
    .value = 451,  // in the range HDF5 leaves to applications (256-511)
#endif
    .name = "infersim_write",
    .maxaddr = kMaxAddr,
    .fc_degree = H5F_CLOSE_WEAK,
    .terminate = nullptr,
    .sb_size = nullptr,  // no driver block in the superblock: sec2 reads the files
    .sb_encode = nullptr,
    .sb_decode = nullptr,
    .fapl_size = sizeof(DriverInfo),
    .fapl_get = info_get,
    .fapl_copy = info_copy,
    .fapl_free = info_free,
    .dxpl_size = 0,
    .dxpl_copy = nullptr,
    .dxpl_free = nullptr,
    .open = open_file,
    .close = close_file,
    .cmp = compare,
    .query = query,
    .get_type_map = nullptr,  // fl_map
    .alloc = nullptr,         // the library's own allocation
    .free = nullptr,
    .get_eoa = get_eoa,
    .set_eoa = set_eoa,
    .get_eof = get_eof,
    .get_handle = get_handle,
    .read = read_bytes,
    .write = write_bytes,
    .flush = flush,
    .truncate = truncate,
    .lock = nullptr,  // temporary files of one process: no file locking
    .unlock = nullptr,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

}  // namespace

void use_write_driver(hid_t fapl, WriteStatus* status) {
  static const hid_t driver = H5FDregister(&kDriver);
  if (driver < 0) throw std::runtime_error("HDF5: cannot register infersim's file driver");
  const DriverInfo info{status};
  if (H5Pset_driver(fapl, driver, &info) < 0) {
    throw std::runtime_error("HDF5: cannot set infersim's file driver");
  }
}

}  // namespace infersim
