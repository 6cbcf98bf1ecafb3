#include "sim/results/hdf5_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>
#include <utility>

#include "sim/results/write_driver.h"

namespace infersim {

namespace {

// Once per process: make sure the library is initialised and stop it printing its error
// stack on stderr; failures are reported through exceptions instead.
void init_hdf5() {
  static const bool done = [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

struct ErrorWalk {
  std::string innermost;  // the most specific description (often carries errno text)
  std::string api;        // the outermost function, the API call that failed
};

herr_t walk_error(unsigned n, const H5E_error2_t* e, void* data) {
  auto* w = static_cast<ErrorWalk*>(data);
  if (n == 0 && e->desc != nullptr) w->innermost = e->desc;
  if (e->func_name != nullptr) w->api = e->func_name;
  return 0;
}

// "<api>(): <description>" from HDF5's error stack (which it clears), on one line.
std::string error_stack_text() {
  ErrorWalk w;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_error, &w);
  H5Eclear2(H5E_DEFAULT);
  std::string msg;
  if (!w.api.empty() || !w.innermost.empty()) {
    if (!w.api.empty()) msg += w.api + "(): ";
    msg += w.innermost.empty() ? std::string("failed") : w.innermost;
  }
  // One line: HDF5's descriptions may hold line breaks.
  for (char& c : msg) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return msg;
}

// Throws std::runtime_error("HDF5: <what>: <api>(): <description>") from HDF5's error stack.
[[noreturn]] void fail(const std::string& what) {
  const std::string stack = error_stack_text();
  throw std::runtime_error("HDF5: " + what + (stack.empty() ? "" : ": " + stack));
}

void check(herr_t rc, const std::string& what) {
  if (rc < 0) fail(what);
}

[[noreturn]] void fail_errno(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + std::strerror(err));
}

// "/runs/3/" -> "/runs/3"; "runs" -> "/runs"; "" or "/" -> "" (the root).
std::string normalise_group(const std::string& p) {
  std::string s = p;
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (!s.empty() && s.front() != '/') s.insert(s.begin(), '/');
  return s;
}

std::string basename_of(const std::string& p) {
  auto pos = p.find_last_of('/');
  return pos == std::string::npos ? p : p.substr(pos + 1);
}

Handle make_lcpl() {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "create link property list");
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), "set create_intermediate_group");
  return lcpl;
}

Handle make_dcpl(hsize_t chunk_rows) {
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "create dataset property list");
  hsize_t chunk[1] = {std::max<hsize_t>(1, chunk_rows)};
  check(H5Pset_chunk(dcpl.get(), 1, chunk), "set chunk size");
  check(H5Pset_shuffle(dcpl.get()), "set shuffle filter");
  check(H5Pset_deflate(dcpl.get(), 4), "set deflate filter");
  // Last in the pipeline: a checksum of the stored (compressed) bytes of every chunk, which
  // every read verifies, so a corrupted chunk is an error rather than wrong numbers.
  check(H5Pset_fletcher32(dcpl.get()), "set Fletcher32 filter");
  check(H5Pset_obj_track_times(dcpl.get(), 0), "disable time tracking");
  return dcpl;
}

Handle make_extendible_space(hsize_t rows) {
  hsize_t dims[1] = {rows};
  hsize_t maxdims[1] = {H5S_UNLIMITED};
  return Handle(H5Screate_simple(1, dims, maxdims), H5Sclose, "create dataspace");
}

// A fixed-length string attribute as H5TB / H5LT write it (null-terminated, ASCII).
void set_fixed_string_attr(hid_t obj, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "copy string type");
  check(H5Tset_size(type.get(), value.size() + 1), "set string size");
  check(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), "set string padding");
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "create scalar dataspace");
  Handle attr(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, "create attribute " + name);
  check(H5Awrite(attr.get(), type.get(), value.c_str()), "write attribute " + name);
  attr.close("close attribute " + name);
}

// The attributes hdf5_hl's H5TBmake_table writes; with them PyTables (and so pd.read_hdf)
// opens the dataset as a Table without guessing from its datatype.
void set_table_attrs(hid_t dataset, const std::string& title,
                     const std::vector<std::string>& names) {
  set_fixed_string_attr(dataset, "CLASS", "TABLE");
  set_fixed_string_attr(dataset, "VERSION", "3.0");
  set_fixed_string_attr(dataset, "TITLE", title);
  for (std::size_t i = 0; i < names.size(); ++i) {
    set_fixed_string_attr(dataset, "FIELD_" + std::to_string(i) + "_NAME", names[i]);
  }
}

const char* type_name(ColType t) {
  switch (t) {
    case ColType::Int64:
      return "int64";
    case ColType::Float64:
      return "float64";
    case ColType::String:
      return "string";
  }
  return "?";
}

std::size_t variant_index(ColType t) {
  switch (t) {
    case ColType::Int64:
      return 0;
    case ColType::Float64:
      return 1;
    case ColType::String:
      return 2;
  }
  return 0;
}

const std::vector<std::string> kRequestColumns = {"tenant", "gpu",   "arrival_ns", "start_ns",
                                                  "end_ns", "batch", "status"};

// RequestRecord as laid out in memory (with the compiler's padding).
Handle request_memtype() {
  Handle t(H5Tcreate(H5T_COMPOUND, sizeof(RequestRecord)), H5Tclose, "create compound type");
  auto ins = [&](const char* name, std::size_t off, hid_t mt) {
    check(H5Tinsert(t.get(), name, off, mt), std::string("insert member ") + name);
  };
  ins("tenant", offsetof(RequestRecord, tenant), H5T_NATIVE_INT32);
  ins("gpu", offsetof(RequestRecord, gpu), H5T_NATIVE_INT32);
  ins("arrival_ns", offsetof(RequestRecord, arrival_ns), H5T_NATIVE_INT64);
  ins("start_ns", offsetof(RequestRecord, start_ns), H5T_NATIVE_INT64);
  ins("end_ns", offsetof(RequestRecord, end_ns), H5T_NATIVE_INT64);
  ins("batch", offsetof(RequestRecord, batch), H5T_NATIVE_INT32);
  ins("status", offsetof(RequestRecord, status), H5T_NATIVE_INT8);
  return t;
}

// The same members packed (37 bytes a row), little-endian: the file type.
Handle request_filetype() {
  Handle t(H5Tcopy(request_memtype().get()), H5Tclose, "copy compound type");
  check(H5Tpack(t.get()), "pack compound type");
  return t;
}

Handle open_file_readonly(const std::string& file_path) {
  init_hdf5();
  return Handle(H5Fopen(file_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                "open " + file_path);
}

void reclaim_vlen(hid_t memtype, hid_t space, void* buf) {
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(memtype, space, H5P_DEFAULT, buf);
#else
  H5Dvlen_reclaim(memtype, space, H5P_DEFAULT, buf);
#endif
}

std::string member_name(hid_t type, unsigned i) {
  char* raw = H5Tget_member_name(type, i);
  if (raw == nullptr) fail("get compound member name");
  std::string name(raw);
  H5free_memory(raw);
  return name;
}

}  // namespace

// ---------------------------------------------------------------------------------- Handle

Handle::Handle(hid_t id, Closer closer, const std::string& what) : id_(id), closer_(closer) {
  if (id < 0) {
    id_ = H5I_INVALID_HID;
    fail(what);
  }
}

Handle::~Handle() { reset(); }

Handle::Handle(Handle&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    closer_ = other.closer_;
  }
  return *this;
}

void Handle::close(const std::string& what) {
  if (id_ < 0) return;
  hid_t id = std::exchange(id_, H5I_INVALID_HID);
  if (closer_ != nullptr) check(closer_(id), what);
}

void Handle::reset() noexcept {
  if (id_ < 0) return;
  hid_t id = std::exchange(id_, H5I_INVALID_HID);
  if (closer_ != nullptr && closer_(id) < 0) H5Eclear2(H5E_DEFAULT);
}

// ----------------------------------------------------------------------------------- Table

void Table::add_column(std::string name, ColType t) {
  if (!rows.empty()) {
    throw std::logic_error("Table::add_column(" + name + "): the table already has rows");
  }
  names.push_back(std::move(name));
  types.push_back(t);
}

int Table::column(const std::string& name) const {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// --------------------------------------------------------------------------- RequestStream

RequestStream::RequestStream(ResultFile* owner, Handle dataset, Handle memtype, std::string path)
    : owner_(owner),
      dataset_(std::move(dataset)),
      memtype_(std::move(memtype)),
      path_(std::move(path)) {
  buffer_.reserve(kFlushRecords);
}

RequestStream::~RequestStream() {
  try {
    close();
  } catch (...) {
    abandon();
  }
}

void RequestStream::append(const RequestRecord& r) {
  if (!dataset_) throw std::runtime_error("RequestStream " + path_ + ": append after close");
  buffer_.push_back(r);
  if (buffer_.size() >= kFlushRecords) flush();
}

void RequestStream::flush() {
  if (buffer_.empty()) return;
  const auto n = static_cast<hsize_t>(buffer_.size());
  const std::string what = "append " + std::to_string(n) + " records to " + path_;
  hsize_t new_size[1] = {written_ + n};
  check(H5Dset_extent(dataset_.get(), new_size), what);
  Handle filespace(H5Dget_space(dataset_.get()), H5Sclose, what);
  hsize_t start[1] = {written_};
  hsize_t count[1] = {n};
  check(H5Sselect_hyperslab(filespace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), what);
  Handle memspace(H5Screate_simple(1, count, nullptr), H5Sclose, what);
  check(H5Dwrite(dataset_.get(), memtype_.get(), memspace.get(), filespace.get(), H5P_DEFAULT,
                 buffer_.data()),
        what);
  written_ += n;
  buffer_.clear();
  if (owner_ != nullptr) owner_->check_written();
}

void RequestStream::close() {
  if (!dataset_) return;
  flush();
  dataset_.close("close " + path_);
  memtype_.close("close datatype of " + path_);
  buffer_.clear();
  buffer_.shrink_to_fit();
  if (owner_ != nullptr) owner_->forget(this);
  owner_ = nullptr;
}

void RequestStream::abandon() noexcept {
  dataset_.reset();
  memtype_.reset();
  buffer_.clear();
  buffer_.shrink_to_fit();
  if (owner_ != nullptr) owner_->forget(this);
  owner_ = nullptr;
}

// ------------------------------------------------------------------------------ ResultFile

ResultFile::ResultFile(std::string final_path, FileFormat format)
    : final_path_(std::move(final_path)),
      write_status_(std::make_unique<WriteStatus>()),
      format_(format) {
  init_hdf5();
  if (final_path_.empty()) throw std::runtime_error("ResultFile: empty output path");
  const std::filesystem::path parent = std::filesystem::path(final_path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw std::runtime_error("cannot create directory " + parent.string() + ": " + ec.message());
    }
  }
  temp_path_ = temp_path_for(final_path_);
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "create file access property list");
  // Closing the file closes anything still open in it.
  check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "set file close degree");
  // Checksummed metadata (FileFormat); PyTables and h5py of Debian 12 (HDF5 1.10.8) read it.
  check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_LATEST),
        "set the HDF5 1.10 file format");
  use_write_driver(fapl.get(), write_status_.get());
  const hid_t id = H5Fcreate(temp_path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  if (id < 0 && write_status_->open_error != 0) {
    H5Eclear2(H5E_DEFAULT);
    throw std::runtime_error("cannot create " + temp_path_ + ": " +
                             std::strerror(write_status_->open_error));
  }
  file_ = Handle(id, H5Fclose, "create " + temp_path_);
}

ResultFile::~ResultFile() {
  std::vector<RequestStream*> streams;
  streams.swap(streams_);
  for (RequestStream* s : streams) {
    s->owner_ = nullptr;
    s->abandon();
  }
  file_.reset();
  if (!committed_ && !temp_path_.empty()) {
    std::error_code ec;
    std::filesystem::remove(temp_path_, ec);
  }
}

void ResultFile::check_open(const char* op) const {
  if (!file_) {
    throw std::runtime_error(std::string("ResultFile ") + final_path_ + ": " + op +
                             " after commit");
  }
}

void ResultFile::check_written() const {
  if (write_status_->error != 0) {
    throw std::runtime_error("cannot write " + final_path_ + ": " +
                             std::strerror(write_status_->error) + " (" + write_status_->what +
                             ")");
  }
}

void ResultFile::forget(RequestStream* s) {
  streams_.erase(std::remove(streams_.begin(), streams_.end(), s), streams_.end());
}

void ResultFile::write_table(const std::string& dataset_path, const Table& t) {
  check_open("write_table");
  const std::string where = "write_table " + dataset_path;
  const std::size_t ncols = t.names.size();
  if (ncols == 0) throw std::runtime_error(where + ": the table has no columns");
  if (t.types.size() != ncols) {
    throw std::runtime_error(where + ": " + std::to_string(ncols) + " column names but " +
                             std::to_string(t.types.size()) + " column types");
  }
  std::set<std::string> seen;
  for (const auto& name : t.names) {
    if (name.empty()) throw std::runtime_error(where + ": empty column name");
    if (!seen.insert(name).second) {
      throw std::runtime_error(where + ": duplicate column name '" + name + "'");
    }
  }

  // Check the cells and size the string columns (longest value, at least 1 byte).
  std::vector<std::size_t> width(ncols, 8);
  for (std::size_t c = 0; c < ncols; ++c) {
    if (t.types[c] == ColType::String) width[c] = 1;
  }
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    if (row.size() != ncols) {
      throw std::runtime_error(where + ": row " + std::to_string(r) + " has " +
                               std::to_string(row.size()) + " cells, expected " +
                               std::to_string(ncols));
    }
    for (std::size_t c = 0; c < ncols; ++c) {
      if (row[c].index() != variant_index(t.types[c])) {
        throw std::runtime_error(where + ": row " + std::to_string(r) + " column '" + t.names[c] +
                                 "' does not hold a " + type_name(t.types[c]));
      }
      if (t.types[c] == ColType::String) {
        width[c] = std::max(width[c], std::get<std::string>(row[c]).size());
      }
    }
  }
  std::vector<std::size_t> offset(ncols, 0);
  std::size_t row_size = 0;
  for (std::size_t c = 0; c < ncols; ++c) {
    offset[c] = row_size;
    row_size += width[c];
  }

  // Packed compound type: the memory type and the file type are the same.
  Handle type(H5Tcreate(H5T_COMPOUND, row_size), H5Tclose, where + ": create compound type");
  for (std::size_t c = 0; c < ncols; ++c) {
    const std::string what = where + ": column '" + t.names[c] + "'";
    switch (t.types[c]) {
      case ColType::Int64:
        check(H5Tinsert(type.get(), t.names[c].c_str(), offset[c], H5T_NATIVE_INT64), what);
        break;
      case ColType::Float64:
        check(H5Tinsert(type.get(), t.names[c].c_str(), offset[c], H5T_NATIVE_DOUBLE), what);
        break;
      case ColType::String: {
        Handle st(H5Tcopy(H5T_C_S1), H5Tclose, what);
        check(H5Tset_size(st.get(), width[c]), what);
        check(H5Tset_strpad(st.get(), H5T_STR_NULLPAD), what);
        check(H5Tinsert(type.get(), t.names[c].c_str(), offset[c], st.get()), what);
        break;
      }
    }
  }

  // Rows packed one after another (unaligned members: filled with memcpy).
  const std::size_t nrows = t.rows.size();
  std::vector<unsigned char> buf(nrows * row_size, 0);
  for (std::size_t r = 0; r < nrows; ++r) {
    unsigned char* p = buf.data() + r * row_size;
    for (std::size_t c = 0; c < ncols; ++c) {
      const Cell& cell = t.rows[r][c];
      if (const auto* i = std::get_if<std::int64_t>(&cell)) {
        std::memcpy(p + offset[c], i, sizeof *i);
      } else if (const auto* d = std::get_if<double>(&cell)) {
        std::memcpy(p + offset[c], d, sizeof *d);
      } else {
        const auto& s = std::get<std::string>(cell);
        std::memcpy(p + offset[c], s.data(), s.size());
      }
    }
  }

  // Chunks of ~256 KiB, never more rows than the table has (at least one).
  const std::size_t target_rows = std::max<std::size_t>(1, (256 * 1024) / row_size);
  const hsize_t chunk_rows = std::max<std::size_t>(1, std::min(nrows, target_rows));
  Handle space = make_extendible_space(nrows);
  Handle dcpl = make_dcpl(chunk_rows);
  Handle lcpl = make_lcpl();
  Handle ds(H5Dcreate2(file_.get(), dataset_path.c_str(), type.get(), space.get(), lcpl.get(),
                       dcpl.get(), H5P_DEFAULT),
            H5Dclose, where + ": create dataset");
  if (nrows > 0) {
    check(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()),
          where + ": write rows");
  }
  set_table_attrs(ds.get(), basename_of(dataset_path), t.names);
  ds.close(where + ": close dataset");
  check_written();
}

void ResultFile::set_root_attr(const std::string& name, const std::string& value) {
  set_attr("/", name, value);
}

void ResultFile::set_attr(const std::string& object_path, const std::string& name,
                          const std::string& value) {
  check_open("set_attr");
  const std::string where = "set attribute " + name + " of " + object_path;
  Handle obj(H5Oopen(file_.get(), object_path.c_str(), H5P_DEFAULT), H5Oclose, where);
  htri_t exists = H5Aexists(obj.get(), name.c_str());
  if (exists < 0) fail(where);
  if (exists > 0) check(H5Adelete(obj.get(), name.c_str()), where);
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, where);
  const bool fixed = format_ == FileFormat::Shard;
  check(H5Tset_size(type.get(), fixed ? std::max<std::size_t>(1, value.size()) : H5T_VARIABLE),
        where);
  if (fixed) check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), where);
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), where);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, where);
  Handle attr(
      H5Acreate2(obj.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, where);
  const char* text = value.c_str();
  if (fixed) {
    std::string padded = value;
    padded.resize(std::max<std::size_t>(1, value.size()), '\0');
    check(H5Awrite(attr.get(), type.get(), padded.data()), where);
  } else {
    check(H5Awrite(attr.get(), type.get(), &text), where);
  }
  attr.close(where);
  obj.close(where);
  check_written();
}

std::unique_ptr<RequestStream> ResultFile::open_requests(const std::string& group_path) {
  check_open("open_requests");
  const std::string path = normalise_group(group_path) + "/requests";
  const std::string where = "open_requests " + path;
  Handle memtype = request_memtype();
  Handle filetype = request_filetype();
  Handle space = make_extendible_space(0);
  Handle dcpl = make_dcpl(RequestStream::kChunkRecords);
  Handle lcpl = make_lcpl();
  Handle ds(H5Dcreate2(file_.get(), path.c_str(), filetype.get(), space.get(), lcpl.get(),
                       dcpl.get(), H5P_DEFAULT),
            H5Dclose, where + ": create dataset");
  set_table_attrs(ds.get(), "requests", kRequestColumns);
  std::unique_ptr<RequestStream> s(
      new RequestStream(this, std::move(ds), std::move(memtype), path));
  streams_.push_back(s.get());
  check_written();
  return s;
}

void ResultFile::copy_object(const std::string& src_file, const std::string& src_path,
                             const std::string& dst_path) {
  check_open("copy_object");
  const std::string where = "copy " + src_file + ":" + src_path + " to " + dst_path;
  Handle src = open_file_readonly(src_file);
  Handle lcpl = make_lcpl();
  check(
      H5Ocopy(src.get(), src_path.c_str(), file_.get(), dst_path.c_str(), H5P_DEFAULT, lcpl.get()),
      where);
  src.close("close " + src_file);
  check_written();
}

void ResultFile::commit() {
  finish();
  publish();
}

void ResultFile::finish() {
  check_open("commit");
  while (!streams_.empty()) streams_.back()->close();  // close() removes it from streams_
  if (format_ == FileFormat::ResultSet) {
    // Computed from the file as HDF5 reads it back, by the code that verifies it.
    check_written();
    const std::string sum = ResultReader(file_.get(), temp_path_).content_checksum();
    set_root_attr(kContentChecksumAttr, sum);
  }
  file_.close("close " + temp_path_);
  check_written();  // closing flushes the metadata
  finished_ = true;
}

void ResultFile::publish(bool sync_dir) {
  if (!finished_ || committed_) {
    throw std::logic_error("ResultFile " + final_path_ + ": publish() needs finish() first");
  }
  int fd = ::open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("open " + temp_path_ + " for fsync", errno);
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    fail_errno("fsync " + temp_path_, err);
  }
  ::close(fd);

  if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    fail_errno("rename " + temp_path_ + " to " + final_path_, errno);
  }
  committed_ = true;

  if (sync_dir) {  // make the rename itself durable
    std::filesystem::path dir = std::filesystem::path(final_path_).parent_path();
    sync_directory(dir.empty() ? "." : dir.string());
  }
}

const std::string& temp_host_name() {
  static const std::string name = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return std::string("localhost");
    std::string s(buf);
    for (char& c : s) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-';
      if (!ok) c = '_';
    }
    return s;
  }();
  return name;
}

std::string temp_path_for(const std::string& final_path) {
  return final_path + ".tmp." + std::to_string(static_cast<long>(::getpid())) + "." +
         temp_host_name();
}

void sync_directory(const std::string& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail_errno("open directory " + dir + " for fsync", errno);
  if (::fsync(dfd) != 0 && errno != EINVAL) {
    int err = errno;
    ::close(dfd);
    fail_errno("fsync directory " + dir, err);
  }
  ::close(dfd);
}

// --------------------------------------------------------------------------------- reading

ResultReader::ResultReader(const std::string& file_path)
    : path_(file_path), file_(open_file_readonly(file_path)) {}

ResultReader::ResultReader(hid_t open_file, const std::string& file_path) : path_(file_path) {
  // One more reference to the same identifier: closing ours leaves the caller's open.
  check(H5Iinc_ref(open_file), "read " + file_path);
  file_ = Handle(open_file, H5Fclose, "read " + file_path);
}

Table ResultReader::table(const std::string& dataset_path) const {
  const std::string where = "read_table " + path_ + ":" + dataset_path;
  Handle ds(H5Dopen2(file_.get(), dataset_path.c_str(), H5P_DEFAULT), H5Dclose,
            where + ": open dataset");
  Handle ftype(H5Dget_type(ds.get()), H5Tclose, where + ": get datatype");
  if (H5Tget_class(ftype.get()) != H5T_COMPOUND) {
    throw std::runtime_error(where + ": not a compound (table) dataset");
  }
  Handle space(H5Dget_space(ds.get()), H5Sclose, where + ": get dataspace");
  if (H5Sget_simple_extent_ndims(space.get()) != 1) {
    throw std::runtime_error(where + ": not a 1-D dataset");
  }
  hsize_t dims[1] = {0};
  if (H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0) fail(where);
  const std::size_t nrows = dims[0];
  const int nmembers = H5Tget_nmembers(ftype.get());
  if (nmembers <= 0) fail(where + ": compound type has no members");

  // A packed memory compound holding every member in a type we can convert to.
  enum class Kind { Int, Float, FixedString, VarString };
  struct Member {
    std::string name;
    Kind kind;
    std::size_t offset;
    std::size_t size;
  };
  std::vector<Member> members;
  std::vector<Handle> member_types;  // kept alive until the compound is built
  std::size_t row_size = 0;
  bool has_vlen = false;
  for (int i = 0; i < nmembers; ++i) {
    const auto ui = static_cast<unsigned>(i);
    Member m{member_name(ftype.get(), ui), Kind::Int, row_size, 8};
    Handle mt(H5Tget_member_type(ftype.get(), ui), H5Tclose, where + ": member type");
    switch (H5Tget_class(mt.get())) {
      case H5T_INTEGER:
        member_types.emplace_back(H5Tcopy(H5T_NATIVE_INT64), H5Tclose, where);
        break;
      case H5T_FLOAT:
        m.kind = Kind::Float;
        member_types.emplace_back(H5Tcopy(H5T_NATIVE_DOUBLE), H5Tclose, where);
        break;
      case H5T_STRING: {
        htri_t var = H5Tis_variable_str(mt.get());
        if (var < 0) fail(where);
        Handle st(H5Tcopy(mt.get()), H5Tclose, where);
        if (var > 0) {
          m.kind = Kind::VarString;
          m.size = sizeof(char*);
          has_vlen = true;
        } else {
          m.kind = Kind::FixedString;
          m.size = H5Tget_size(mt.get());
        }
        member_types.push_back(std::move(st));
        break;
      }
      default:
        throw std::runtime_error(where + ": column '" + m.name +
                                 "' has a type other than integer, float or string");
    }
    row_size += m.size;
    members.push_back(std::move(m));
  }
  Handle memtype(H5Tcreate(H5T_COMPOUND, row_size), H5Tclose, where + ": memory type");
  for (std::size_t i = 0; i < members.size(); ++i) {
    check(
        H5Tinsert(memtype.get(), members[i].name.c_str(), members[i].offset, member_types[i].get()),
        where + ": memory type");
  }

  std::vector<unsigned char> buf(nrows * row_size, 0);
  if (nrows > 0) {
    check(H5Dread(ds.get(), memtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()),
          where + ": read");
  }

  Table t;
  for (const auto& m : members) {
    t.add_column(m.name, m.kind == Kind::Int     ? ColType::Int64
                         : m.kind == Kind::Float ? ColType::Float64
                                                 : ColType::String);
  }
  t.rows.reserve(nrows);
  for (std::size_t r = 0; r < nrows; ++r) {
    const unsigned char* p = buf.data() + r * row_size;
    std::vector<Cell> row;
    row.reserve(members.size());
    for (const auto& m : members) {
      switch (m.kind) {
        case Kind::Int: {
          std::int64_t v;
          std::memcpy(&v, p + m.offset, sizeof v);
          row.emplace_back(v);
          break;
        }
        case Kind::Float: {
          double v;
          std::memcpy(&v, p + m.offset, sizeof v);
          row.emplace_back(v);
          break;
        }
        case Kind::FixedString: {
          const char* s = reinterpret_cast<const char*>(p + m.offset);
          row.emplace_back(std::string(s, strnlen(s, m.size)));
          break;
        }
        case Kind::VarString: {
          const char* s = nullptr;
          std::memcpy(&s, p + m.offset, sizeof s);
          row.emplace_back(std::string(s != nullptr ? s : ""));
          break;
        }
      }
    }
    t.rows.push_back(std::move(row));
  }
  if (has_vlen && nrows > 0) reclaim_vlen(memtype.get(), space.get(), buf.data());
  return t;
}

namespace {

// Reads one attribute's value (HDF5 verifies the checksum of the metadata holding it). On
// failure, the error goes into *(std::string*)problem before closing anything clears it.
herr_t read_one_attr(hid_t loc, const char* name, const H5A_info_t*, void* problem) {
  auto failed = [&] {
    *static_cast<std::string*>(problem) =
        "attribute " + std::string(name) + ": " + error_stack_text();
    return -1;
  };
  const hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
  if (attr < 0) return failed();
  Handle a(attr, H5Aclose, "open attribute");
  const hid_t ft = H5Aget_type(attr);
  if (ft < 0) return failed();
  Handle type(ft, H5Tclose, "attribute type");
  const hid_t sp = H5Aget_space(attr);
  if (sp < 0) return failed();
  Handle space(sp, H5Sclose, "attribute space");
  const hssize_t n = H5Sget_simple_extent_npoints(sp);
  if (n < 0) return failed();
  const htri_t vlen = H5Tdetect_class(ft, H5T_VLEN);
  const htri_t vstr = H5Tis_variable_str(ft);
  if (vlen < 0 || vstr < 0) return failed();
  const std::size_t size = H5Tget_size(ft);
  std::vector<unsigned char> buf(static_cast<std::size_t>(n) * size + 1);
  if (H5Aread(attr, ft, buf.data()) < 0) return failed();
  if (vlen > 0 || vstr > 0) reclaim_vlen(ft, sp, buf.data());
  return 0;
}

#if H5_VERSION_GE(1, 12, 0)
herr_t read_object_attrs(hid_t obj, const char* name, const H5O_info2_t*, void* problem) {
#else
herr_t read_object_attrs(hid_t obj, const char* name, const H5O_info_t*, void* problem) {
#endif
  auto& text = *static_cast<std::string*>(problem);
  const hid_t o = H5Oopen(obj, name, H5P_DEFAULT);
  if (o < 0) {
    text = "object " + std::string(name) + ": " + error_stack_text();
    return -1;
  }
  Handle handle(o, H5Oclose, "open object");
  hsize_t idx = 0;
  if (H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, read_one_attr, &text) < 0) {
    if (text.empty()) text = "attributes of " + std::string(name) + ": " + error_stack_text();
    text = "object " + std::string(name) + ": " + text;
    return -1;
  }
  return 0;
}

}  // namespace

void ResultReader::check_all_metadata() const {
  const std::string where = "read the objects and attributes of " + path_;
  std::string problem;
#if H5_VERSION_GE(1, 12, 0)
  const herr_t rc = H5Ovisit3(file_.get(), H5_INDEX_NAME, H5_ITER_NATIVE, read_object_attrs,
                              &problem, H5O_INFO_BASIC);
#else
  const herr_t rc = H5Ovisit2(file_.get(), H5_INDEX_NAME, H5_ITER_NATIVE, read_object_attrs,
                              &problem, H5O_INFO_BASIC);
#endif
  if (rc < 0 && !problem.empty()) {
    H5Eclear2(H5E_DEFAULT);
    throw std::runtime_error("HDF5: " + where + ": " + problem);
  }
  check(rc, where);
}

namespace {

// FNV-1a over length-prefixed fields, so that no two different contents serialize alike.
// The same function as sim/core/hash.h's fnv1a64, written out because sim/results depends
// on no other layer (tests/python/check_layers.py).
struct ContentHash {
  std::uint64_t h = 14695981039346656037ull;
  void raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  }
  void u64(std::uint64_t v) {
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(v >> (8 * i));
    raw(le, 8);
  }
  void bytes(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
};

struct ObjectList {
  std::vector<std::pair<std::string, H5O_type_t>> objects;
};

#if H5_VERSION_GE(1, 12, 0)
herr_t list_object(hid_t, const char* name, const H5O_info2_t* info, void* data) {
#else
herr_t list_object(hid_t, const char* name, const H5O_info_t* info, void* data) {
#endif
  static_cast<ObjectList*>(data)->objects.emplace_back(name, info->type);
  return 0;
}

herr_t list_attr(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

}  // namespace

std::string ResultReader::content_checksum() const {
  const std::string where = "checksum the content of " + path_;
  ObjectList list;
#if H5_VERSION_GE(1, 12, 0)
  check(H5Ovisit3(file_.get(), H5_INDEX_NAME, H5_ITER_INC, list_object, &list, H5O_INFO_BASIC),
        where);
#else
  check(H5Ovisit2(file_.get(), H5_INDEX_NAME, H5_ITER_INC, list_object, &list, H5O_INFO_BASIC),
        where);
#endif
  ContentHash k;
  k.bytes("infersim result set checksum 1");
  k.u64(list.objects.size());
  for (const auto& [name, type] : list.objects) {
    const std::string path = name == "." ? "/" : "/" + name;
    k.bytes(path);
    k.u64(static_cast<std::uint64_t>(type));
    std::vector<std::string> attrs;
    {
      Handle obj(H5Oopen(file_.get(), path.c_str(), H5P_DEFAULT), H5Oclose, where + ": " + path);
      hsize_t idx = 0;
      check(H5Aiterate2(obj.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, list_attr, &attrs),
            where + ": attributes of " + path);
    }
    if (path == "/") {
      attrs.erase(std::remove(attrs.begin(), attrs.end(), kContentChecksumAttr), attrs.end());
    }
    k.u64(attrs.size());
    for (const auto& a : attrs) {
      k.bytes(a);
      const std::string value = attr(path, a);
      k.bytes(std::string(value.c_str()));  // as stored: text ends at its first NUL
    }
    if (type != H5O_TYPE_DATASET) continue;
    if (basename_of(path) == "requests") {
      const std::string group = path.substr(0, path.size() - std::string("/requests").size());
      std::uint64_t n = 0;
      requests_in_chunks(group, RequestStream::kFlushRecords,
                         [&](const RequestRecord* r, std::size_t count) {
                           for (std::size_t i = 0; i < count; ++i) {
                             k.u64(static_cast<std::uint64_t>(r[i].tenant));
                             k.u64(static_cast<std::uint64_t>(r[i].gpu));
                             k.u64(static_cast<std::uint64_t>(r[i].arrival_ns));
                             k.u64(static_cast<std::uint64_t>(r[i].start_ns));
                             k.u64(static_cast<std::uint64_t>(r[i].end_ns));
                             k.u64(static_cast<std::uint64_t>(r[i].batch));
                             k.u64(static_cast<std::uint64_t>(r[i].status));
                           }
                           n += count;
                         });
      k.u64(n);
      continue;
    }
    const Table t = table(path);
    k.u64(t.names.size());
    for (std::size_t c = 0; c < t.names.size(); ++c) {
      k.bytes(t.names[c]);
      k.u64(static_cast<std::uint64_t>(t.types[c]));
    }
    k.u64(t.rows.size());
    for (const auto& row : t.rows) {
      for (const Cell& cell : row) {
        if (const auto* i = std::get_if<std::int64_t>(&cell)) {
          k.u64(static_cast<std::uint64_t>(*i));
        } else if (const auto* d = std::get_if<double>(&cell)) {
          std::uint64_t bits;
          std::memcpy(&bits, d, sizeof bits);
          k.u64(bits);
        } else {
          k.bytes(std::get<std::string>(cell));
        }
      }
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(k.h));
  return hex;
}

bool ResultReader::verify() const {
  check_all_metadata();
  const htri_t has = H5Aexists(file_.get(), kContentChecksumAttr);
  if (has < 0) fail("look for the content checksum of " + path_);
  if (has == 0) return false;
  const std::string stored = attr("/", kContentChecksumAttr);
  const std::string content = content_checksum();
  if (stored != content) {
    throw std::runtime_error(path_ + ": content checksum mismatch (stored " + stored +
                             ", content " + content + ")");
  }
  return true;
}

std::string ResultReader::attr(const std::string& object_path, const std::string& name) const {
  const std::string where = "read attribute " + name + " of " + path_ + ":" + object_path;
  Handle attr(
      H5Aopen_by_name(file_.get(), object_path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, where);
  Handle ftype(H5Aget_type(attr.get()), H5Tclose, where);
  if (H5Tget_class(ftype.get()) != H5T_STRING) {
    throw std::runtime_error(where + ": not a string attribute");
  }
  Handle space(H5Aget_space(attr.get()), H5Sclose, where);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) {
    throw std::runtime_error(where + ": not a scalar attribute");
  }
  htri_t var = H5Tis_variable_str(ftype.get());
  if (var < 0) fail(where);
  Handle memtype(H5Tcopy(ftype.get()), H5Tclose, where);
  if (var > 0) {
    char* s = nullptr;
    check(H5Aread(attr.get(), memtype.get(), &s), where);
    std::string out = s != nullptr ? s : "";
    reclaim_vlen(memtype.get(), space.get(), &s);
    return out;
  }
  const std::size_t size = H5Tget_size(ftype.get());
  std::vector<char> buf(size + 1, '\0');
  check(H5Aread(attr.get(), memtype.get(), buf.data()), where);
  return std::string(buf.data(), strnlen(buf.data(), size));
}

void ResultReader::requests_in_chunks(
    const std::string& group_path, std::size_t chunk_records,
    const std::function<void(const RequestRecord* records, std::size_t n)>& take) const {
  const std::string path = normalise_group(group_path) + "/requests";
  const std::string where = "read_requests " + path_ + ":" + path;
  Handle ds(H5Dopen2(file_.get(), path.c_str(), H5P_DEFAULT), H5Dclose, where);
  Handle space(H5Dget_space(ds.get()), H5Sclose, where);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) {
    throw std::runtime_error(where + ": not a 1-D dataset");
  }
  hsize_t dims[1] = {0};
  if (H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0) fail(where);
  Handle memtype = request_memtype();
  std::vector<RequestRecord> buf(
      std::min<hsize_t>(dims[0], std::max<std::size_t>(1, chunk_records)));
  for (hsize_t start = 0; start < dims[0]; start += buf.size()) {
    hsize_t first[1] = {start};
    hsize_t count[1] = {std::min<hsize_t>(buf.size(), dims[0] - start)};
    check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, first, nullptr, count, nullptr), where);
    Handle memspace(H5Screate_simple(1, count, nullptr), H5Sclose, where);
    check(H5Dread(ds.get(), memtype.get(), memspace.get(), space.get(), H5P_DEFAULT, buf.data()),
          where);
    take(buf.data(), count[0]);
  }
}

Table read_table(const std::string& file_path, const std::string& dataset_path) {
  return ResultReader(file_path).table(dataset_path);
}

std::string read_root_attr(const std::string& file_path, const std::string& name) {
  return ResultReader(file_path).attr("/", name);
}

std::string read_attr(const std::string& file_path, const std::string& object_path,
                      const std::string& name) {
  return ResultReader(file_path).attr(object_path, name);
}

void read_requests_in_chunks(
    const std::string& file_path, const std::string& group_path, std::size_t chunk_records,
    const std::function<void(const RequestRecord* records, std::size_t n)>& take) {
  ResultReader(file_path).requests_in_chunks(group_path, chunk_records, take);
}

void read_all_metadata(const std::string& file_path) {
  ResultReader(file_path).check_all_metadata();
}

std::vector<RequestRecord> read_requests(const std::string& file_path,
                                         const std::string& group_path) {
  std::vector<RequestRecord> out;
  read_requests_in_chunks(
      file_path, group_path, RequestStream::kFlushRecords,
      [&](const RequestRecord* r, std::size_t n) { out.insert(out.end(), r, r + n); });
  return out;
}

}  // namespace infersim
