// The HDF5 result set: small tables (/summary, /tenants) as 1-D compound datasets, streamed
// per-request records (/runs/<run>/requests) and root provenance attributes, written
// crash-safely (temporary file, close, fsync, rename, fsync of the directory).
//
// Files are readable without custom code by h5py (`pd.DataFrame(f["summary"][:])`) and by
// pandas + PyTables (`pd.read_hdf(path, "summary")`): compound members are int64 / float64 /
// fixed-length null-padded strings (h5py gives bytes), the file type is the packed memory
// type, datasets are chunked with shuffle + deflate 4, and every table carries the H5TB
// attributes (CLASS="TABLE", VERSION, TITLE, FIELD_<i>_NAME) so PyTables opens it as a Table.
// Every chunk also carries a Fletcher32 checksum, verified on every read.
// Root attributes are variable-length UTF-8 strings in a scalar dataspace (h5py gives str).
//
// Every HDF5 failure becomes a std::runtime_error naming what was being done and HDF5's own
// description, on one line; HDF5's automatic error printing is switched off. Files are
// written through infersim's own HDF5 driver (write_driver.h), which hides a failed write
// (a full disk) from the library; the ResultFile then throws "cannot write OUT: <errno
// text> (...)" at its next step, and its temporary file is removed. The HDF5 library from Debian
// is not thread-safe: use these classes from one thread at a time.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "sim/results/table.h"

namespace infersim {

// Owns one HDF5 identifier and closes it with the matching H5*close. Move-only.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  Handle() = default;
  // Takes ownership of `id`; throws std::runtime_error("HDF5: <what>: ...") if id < 0.
  Handle(hid_t id, Closer closer, const std::string& what);
  ~Handle();
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }
  // Closes now; throws if HDF5 reports a failure (the handle is empty afterwards either way).
  void close(const std::string& what);
  // Closes now, ignoring failures (for destructors and error paths).
  void reset() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// One per-request record, written as compound rows of /runs/<run>/requests.
struct RequestRecord {
  std::int32_t tenant = 0;
  std::int32_t gpu = 0;
  std::int64_t arrival_ns = 0, start_ns = 0, end_ns = 0;
  std::int32_t batch = 0;
  std::int8_t status = 0;  // 0 = completed, 1 = dropped
};

class ResultFile;
struct WriteStatus;

// Appends RequestRecords in chunks to an extendible chunked dataset. Memory stays flat:
// records are buffered and written every kFlushRecords. Obtained from
// ResultFile::open_requests; ResultFile::commit() closes streams still open, and a
// ResultFile destroyed without commit() abandons them (append() then throws).
class RequestStream {
 public:
  static constexpr std::size_t kFlushRecords = 65536;
  static constexpr hsize_t kChunkRecords = 16384;  // ~600 KiB per chunk (37-byte rows)

  ~RequestStream();
  RequestStream(const RequestStream&) = delete;
  RequestStream& operator=(const RequestStream&) = delete;

  void append(const RequestRecord& r);  // buffers in memory; flushes every ~64k records
  void close();                         // flush remainder; idempotent; also in destructor
  std::uint64_t size() const { return written_ + buffer_.size(); }  // records appended

 private:
  friend class ResultFile;
  struct WriteStatus;
  RequestStream(ResultFile* owner, Handle dataset, Handle memtype, std::string path);
  void flush();
  void abandon() noexcept;  // owner going away without commit: drop everything

  ResultFile* owner_;
  Handle dataset_;
  Handle memtype_;  // compound type describing RequestRecord in memory
  std::string path_;
  std::vector<RequestRecord> buffer_;
  std::uint64_t written_ = 0;
};

// How a file is laid out on disk. Both use the HDF5 1.10 format, whose metadata
// (superblock, object headers, chunk indexes, local heaps) all carry checksums that every
// HDF5 reader (h5py, PyTables, pandas) verifies: a flipped byte in a datatype is an error,
// not a different number.
//   ResultSet  what users read (DESIGN.md): text attributes as variable-length UTF-8
//              strings, which h5py returns as str. Those live in the global heap, which has
//              no checksum, so the file also carries a content checksum of everything it
//              holds (kContentChecksumAttr, written by commit()) that ResultReader::verify
//              recomputes.
//   Shard      a sweep's intermediate file, made to be verified: fixed-length text
//              attributes, so that nothing lives in the global heap (a corrupted one crashed
//              HDF5 1.10 on reading); its checksum is the shard's own (shard_store.h).
enum class FileFormat { ResultSet, Shard };

// The root attribute of a ResultSet file holding its content checksum (16 hex digits).
inline constexpr const char* kContentChecksumAttr = "content_checksum";

class ResultFile {
 public:
  // Creates temp_path_for(final_path) (its folder is created if missing).
  explicit ResultFile(std::string final_path, FileFormat format = FileFormat::ResultSet);
  ~ResultFile();  // if commit() was not called: closes and REMOVES the temporary file
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;

  // e.g. "/summary"; creates intermediate groups. Throws if the dataset exists.
  void write_table(const std::string& dataset_path, const Table& t);
  // A UTF-8 string attribute on "/", scalar dataspace (variable-length, or fixed-length in a
  // Shard); replaces an existing one.
  void set_root_attr(const std::string& name, const std::string& value);
  // The same on the object (group or dataset) at `object_path`, e.g. "/summary".
  void set_attr(const std::string& object_path, const std::string& name, const std::string& value);
  // e.g. "/runs/3" -> dataset "/runs/3/requests" (groups created as needed).
  std::unique_ptr<RequestStream> open_requests(const std::string& group_path);
  // Copies the object (group or dataset, with everything below it) at `src_path` of the
  // closed file `src_file` to `dst_path` here (intermediate groups created): merging shards.
  void copy_object(const std::string& src_file, const std::string& src_path,
                   const std::string& dst_path);
  // Closes everything (a ResultSet gets its content checksum first), fsyncs, renames the
  // temp file over final_path atomically and fsyncs the directory. After commit() only the
  // destructor may be called.
  void commit();
  // commit() in two steps, for callers that serialize HDF5 calls behind a lock: finish()
  // closes the HDF5 file (HDF5 calls: hold the lock); publish() does the fsync, rename and
  // directory fsync (no HDF5 calls: the lock may be released first).
  void finish();
  // sync_dir false skips the directory fsync that makes the rename durable: for a caller
  // that fsyncs the directory once after many files (sync_directory), and for which a
  // rename lost in a crash only means redoing that file.
  void publish(bool sync_dir = true);

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  friend class RequestStream;
  void check_open(const char* op) const;
  // Throws if the driver failed to write anything so far (WriteStatus).
  void check_written() const;
  void forget(RequestStream* s);

  std::string final_path_;
  std::string temp_path_;
  std::unique_ptr<WriteStatus> write_status_;  // filled by the driver; outlives file_
  Handle file_;
  std::vector<RequestStream*> streams_;
  bool finished_ = false;
  bool committed_ = false;
  FileFormat format_;
};

// "<final_path>.tmp.<pid>.<host>": the temporary file this process writes for final_path.
// The host name (characters other than letters, digits, '.' and '-' made '_') tells a
// cleaner on a shared file system whether the pid is one of its own machine's.
std::string temp_path_for(const std::string& final_path);
// This machine's name as temp_path_for writes it.
const std::string& temp_host_name();

// fsyncs a directory, making the renames into it durable.
void sync_directory(const std::string& dir);

// Reading back (merging and verifying shards, tests). One file opened once for several
// reads; the free functions below open the file for one read each.
class ResultReader {
 public:
  explicit ResultReader(const std::string& file_path);  // throws if unreadable
  // Reads a file that is open (for writing, say) through `open_file` (not taken over).
  ResultReader(hid_t open_file, const std::string& file_path);
  // Any 1-D compound dataset: integer members read as Int64, floating as Float64, fixed- or
  // variable-length strings as String (trailing NULs removed).
  Table table(const std::string& dataset_path) const;
  // A string attribute of the object at `object_path` ("/" is the root).
  std::string attr(const std::string& object_path, const std::string& name) const;
  // The records of "<group_path>/requests", `chunk_records` at a time, in order, each batch
  // handed to `take`: memory stays flat however many records there are.
  void requests_in_chunks(
      const std::string& group_path, std::size_t chunk_records,
      const std::function<void(const RequestRecord* records, std::size_t n)>& take) const;
  // Visits every object of the file and reads every attribute of each: HDF5 verifies the
  // checksum of each piece of metadata it reads (in the 1.10 format), so this throws for
  // damaged metadata that reading the tables and records would not touch.
  void check_all_metadata() const;
  // The content checksum of everything the file holds: FNV-1a over a canonical form of every
  // object (by name), each attribute's text (by name; the root's kContentChecksumAttr
  // excepted) and each dataset's cells as converted to int64 / float64 / text (request
  // records field by field). Values are read through fixed memory types, so a damaged
  // datatype changes the checksum.
  std::string content_checksum() const;
  // check_all_metadata(), then the content checksum against the stored one: throws if the
  // file is damaged; false if it has no checksum (written by an older infersim, or not a
  // ResultSet), true if it verifies.
  bool verify() const;

 private:
  std::string path_;
  Handle file_;
};

// One read each (see ResultReader).
Table read_table(const std::string& file_path, const std::string& dataset_path);
std::string read_root_attr(const std::string& file_path, const std::string& name);
void read_all_metadata(const std::string& file_path);
std::string read_attr(const std::string& file_path, const std::string& object_path,
                      const std::string& name);
// All records of "<group_path>/requests" (e.g. "/runs/3").
std::vector<RequestRecord> read_requests(const std::string& file_path,
                                         const std::string& group_path);
void read_requests_in_chunks(
    const std::string& file_path, const std::string& group_path, std::size_t chunk_records,
    const std::function<void(const RequestRecord* records, std::size_t n)>& take);

}  // namespace infersim
