// The HDF5 file driver of the files infersim writes: POSIX pread/pwrite, like HDF5's default
// driver (sec2), except that a failed write is never reported to HDF5.
//
// Why: HDF5 1.10's error paths after a failed write are not safe. With a full disk (or a
// file-size limit) H5Ocopy crashed inside the library, and a failed H5Fclose left a file
// behind that crashed the library's exit cleanup, after printing hundreds of lines. So this
// driver remembers the first failure (errno and what was being written) in a WriteStatus
// the writer owns, keeps every byte it could not write in memory so that the library reads
// back what it wrote and never sees an inconsistent file, and lets the call succeed. The
// writer (ResultFile) checks the status after each step and fails cleanly with one message;
// the temporary file is then removed, never renamed into place.
//
// Bytes kept in memory after a failure: all metadata (small), and raw data up to
// kRawOverlayLimit; raw data beyond that is dropped (the library does not read back the raw
// data it writes, and the file is discarded anyway).
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <string>

namespace infersim {

struct WriteStatus {
  int error = 0;       // errno of the first failed write, truncate or close; 0: none
  std::string what;    // what failed, e.g. "write 4096 bytes at offset 8192 of out.h5.tmp.7"
  int open_error = 0;  // errno of the last failed open (HDF5 tries one to probe the file)
};

constexpr std::size_t kRawOverlayLimit = std::size_t{64} << 20;

// Makes `fapl` (a file-access property list) use the driver, reporting into `*status`,
// which must outlive every file opened with it.
void use_write_driver(hid_t fapl, WriteStatus* status);

}  // namespace infersim
