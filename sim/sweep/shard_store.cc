#include "sim/sweep/shard_store.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <sstream>

#include "sim/core/hash.h"
#include "sim/results/hdf5_writer.h"
#include "sim/sweep/output_files.h"
#include "sim/sweep/tables.h"

namespace infersim {
namespace fs = std::filesystem;

// Debian's HDF5 is not thread-safe: every HDF5 call made while workers run holds this lock.
std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

namespace {

// The live TempFiles' slots, for the signal handler.
constexpr std::size_t kSlotChars = 4096;
char (*g_temp_slots)[kSlotChars] = nullptr;
std::atomic<std::size_t> g_temp_count{0};
char g_empty_dir[kSlotChars] = {};  // TempFiles::remove_dir_if_empty

extern "C" void remove_temps_and_die(int sig) {
  const std::size_t n = g_temp_count.load();
  for (std::size_t i = 0; i < n; ++i) {
    if (g_temp_slots[i][0] != '\0') ::unlink(g_temp_slots[i]);
  }
  if (g_empty_dir[0] != '\0') ::rmdir(g_empty_dir);  // fails, harmlessly, unless empty
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

TempFiles::TempFiles(std::size_t slots) : slots_(new char[slots][kPathMax]()) {
  static_assert(kPathMax == kSlotChars);
  g_temp_slots = slots_;
  g_temp_count = slots;
  for (std::size_t i = 0; i < std::size(kSignals); ++i) {
    old_[i] = std::signal(kSignals[i], remove_temps_and_die);
  }
}

TempFiles::~TempFiles() {
  for (std::size_t i = 0; i < std::size(kSignals); ++i) std::signal(kSignals[i], old_[i]);
  g_empty_dir[0] = '\0';
  g_temp_count = 0;
  g_temp_slots = nullptr;
  delete[] slots_;
}

void TempFiles::remove_dir_if_empty(const std::string& dir) {
  if (dir.empty() || dir.size() >= kSlotChars) return;  // too long to keep: left behind
  g_empty_dir[0] = '\0';
  std::memcpy(g_empty_dir + 1, dir.data() + 1, dir.size() - 1);
  g_empty_dir[dir.size()] = '\0';
  g_empty_dir[0] = dir[0];  // published last
}

void TempFiles::set(std::size_t slot, const std::string& path) {
  slots_[slot][0] = '\0';
  std::size_t n = std::min(path.size(), kPathMax - 1);
  std::memcpy(slots_[slot] + 1, path.data() + 1, n > 0 ? n - 1 : 0);
  slots_[slot][n] = '\0';
  slots_[slot][0] = n > 0 ? path[0] : '\0';  // published last
}

void TempFiles::clear(std::size_t slot) { slots_[slot][0] = '\0'; }

// Removes this machine's temporary files in `dir` whose process is gone (left by a killed run).
void remove_stale_temps(const fs::path& dir, const std::string& final_name) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  const std::string host = temp_host_name();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    // Only what temp_path_for makes for a name infersim writes here: a user's
    // "analysis.tmp.20240101" is not ours, whatever its digits.
    const auto pos = final_name.empty() ? name.find(".tmp.") : final_name.size();
    if (pos == std::string::npos || pos > name.size() || name.compare(pos, 5, ".tmp.") != 0) {
      continue;
    }
    const std::string base = name.substr(0, pos);
    if (final_name.empty() ? !run_of_shard_name(base) : base != final_name) continue;
    const char* digits = name.c_str() + pos + 5;
    if (*digits < '1' || *digits > '9') continue;
    char* end = nullptr;
    const long pid = std::strtol(digits, &end, 10);
    if (pid <= 0) continue;
    // "<pid>.<host>"; a bare "<pid>" is an older infersim's, taken as this machine's.
    if (*end != '\0' && (*end != '.' || host != end + 1)) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    if (!e.is_regular_file(ec)) continue;
    fs::remove(e.path(), ec);
  }
}

std::string shard_info_text(const ShardInfo& s) {
  return fmt::format(
      "run={}\npoint={}\nreplication={}\nruns_total={}\nreplications={}\nconfig_hash={}\n"
      "sweep_id={}\nrequests={}\n{}{}",
      s.run, s.point, s.replication, s.runs_total, s.replications, s.config_hash, s.sweep_id,
      s.requests ? 1 : 0, s.experiment.empty() ? "" : fmt::format("experiment={}\n", s.experiment),
      s.checksum.empty() ? "" : fmt::format("checksum={}\n", s.checksum));
}

namespace {

// Parses a shard description; nothing if a key is missing or malformed.
std::optional<ShardInfo> parse_shard_info(const std::string& path, const std::string& text) {
  std::map<std::string, std::string> kv;
  for (const auto& line : split_lines(text)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (const char* k :
       {"run", "point", "replication", "runs_total", "replications", "config_hash", "sweep_id"}) {
    if (!kv.count(k)) return std::nullopt;
  }
  ShardInfo s;
  s.path = path;
  try {
    s.run = std::stoull(kv["run"]);
    s.point = std::stoull(kv["point"]);
    s.replication = std::stoi(kv["replication"]);
    s.runs_total = std::stoull(kv["runs_total"]);
    s.replications = std::stoi(kv["replications"]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  s.config_hash = kv["config_hash"];
  s.sweep_id = kv["sweep_id"];
  s.requests = kv["requests"] == "1";
  s.experiment = kv["experiment"];
  s.checksum = kv["checksum"];
  if (s.replications < 1 || s.run >= s.runs_total) return std::nullopt;
  return s;
}

// Canonical bytes for the checksum: every field with its length, so that no two different
// contents serialize alike.
struct Canonical {
  std::uint64_t h = kFnvOffset;
  void bytes(std::string_view b) {
    u64(b.size());
    h = fnv1a64(b, h);
  }
  void u64(std::uint64_t v) {
    char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<char>(v >> (8 * i));
    h = fnv1a64(std::string_view(le, 8), h);
  }
  void table(const std::string& name, const Table& t) {
    bytes(name);
    u64(t.names.size());
    for (std::size_t c = 0; c < t.names.size(); ++c) {
      bytes(t.names[c]);
      u64(static_cast<std::uint64_t>(t.types[c]));
    }
    u64(t.rows.size());
    for (const auto& row : t.rows) {
      u64(row.size());
      for (const Cell& cell : row) {
        u64(cell.index());
        if (const auto* i = std::get_if<std::int64_t>(&cell)) {
          u64(static_cast<std::uint64_t>(*i));
        } else if (const auto* d = std::get_if<double>(&cell)) {
          std::uint64_t bits;
          std::memcpy(&bits, d, sizeof bits);
          u64(bits);
        } else {
          // As stored: a fixed-length string ends at its first NUL.
          const auto& str = std::get<std::string>(cell);
          bytes(std::string_view(str.c_str(), std::strlen(str.c_str())));
        }
      }
    }
  }
};

}  // namespace

// The shard's description, or nothing if the file is missing, unreadable or not a shard.
std::optional<ShardInfo> read_shard_info(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::string text;
  try {
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    text = read_root_attr(path, "infersim_shard");
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return parse_shard_info(path, text);
}

const std::vector<std::string>& shard_attr_names() {
  static const std::vector<std::string> names{
      "experiment_yaml", "experiment_file", "overrides",   "infersim_version", "git_revision",
      "effective_yaml",  "swept_columns",   "swept_paths", "data_files"};
  return names;
}

const std::string& ShardContent::attr(const std::string& name) const {
  for (const auto& [n, v] : attrs) {
    if (n == name) return v;
  }
  throw std::logic_error("ShardContent::attr: no attribute " + name);
}

std::string shard_checksum(const ShardContent& c, std::uint64_t requests_hash) {
  Canonical k;
  k.bytes("infersim shard checksum 1");
  ShardInfo info = c.info;
  info.checksum.clear();
  k.bytes(shard_info_text(info));
  k.u64(c.attrs.size());
  for (const auto& [name, value] : c.attrs) {
    k.bytes(name);
    k.bytes(std::string_view(value.c_str(), std::strlen(value.c_str())));  // as stored
  }
  k.table("/summary", c.summary);
  k.table("/tenants", c.tenants);
  k.table("/gpus", c.gpus);
  if (c.info.requests) k.u64(requests_hash);
  return fmt::format("{:016x}", k.h);
}

std::optional<ShardContent> verify_shard(const std::string& path, std::string* problem) {
  ShardContent c;
  std::uint64_t requests_hash = kFnvOffset;
  try {
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    const ResultReader file(path);
    file.check_all_metadata();  // everything a merge may copy, not only what is read below
    auto info = parse_shard_info(path, file.attr("/", "infersim_shard"));
    if (!info) {
      *problem = "not a shard: its infersim_shard description is malformed";
      return std::nullopt;
    }
    if (info->checksum.empty()) {
      *problem = "no checksum (written by an older infersim?)";
      return std::nullopt;
    }
    c.info = std::move(*info);
    for (const auto& name : shard_attr_names()) c.attrs.emplace_back(name, file.attr("/", name));
    c.summary = file.table("/summary");
    c.tenants = file.table("/tenants");
    c.gpus = file.table("/gpus");
    if (c.info.requests) {
      file.requests_in_chunks(fmt::format("/runs/{}", c.info.run), RequestStream::kFlushRecords,
                              [&](const RequestRecord* r, std::size_t n) {
                                for (std::size_t i = 0; i < n; ++i) {
                                  requests_hash = hash_request_record(r[i], requests_hash);
                                }
                              });
    }
  } catch (const std::exception& e) {
    *problem = fmt::format("unreadable: {}", e.what());
    return std::nullopt;
  }
  const std::string sum = shard_checksum(c, requests_hash);
  if (sum != c.info.checksum) {
    *problem = fmt::format("checksum mismatch (stored {}, content {})", c.info.checksum, sum);
    return std::nullopt;
  }
  return c;
}

std::string shard_path(const std::string& shard_dir, std::size_t run) {
  return (fs::path(shard_dir) / fmt::format("run-{:06}.h5", run)).string();
}

std::optional<std::uint64_t> run_of_shard_name(const std::string& name) {
  // "run-" digits ".h5", at least 6 digits, at most 18 (fits a uint64), and exactly as
  // shard_path writes it: "run-0000002.h5" is not run 2's shard (a copy under that name
  // would otherwise be merged as a second run 2).
  if (name.size() < 4 + 6 + 3 || name.size() > 4 + 18 + 3 || name.compare(0, 4, "run-") != 0 ||
      name.compare(name.size() - 3, 3, ".h5") != 0 ||
      name.find_first_not_of("0123456789", 4) != name.size() - 3) {
    return std::nullopt;
  }
  const std::uint64_t run = std::stoull(name.substr(4, name.size() - 7));
  if (name != fmt::format("run-{:06}.h5", run)) return std::nullopt;
  return run;
}

std::vector<ShardCheck> check_shards(const Plan& plan, const std::string& dir,
                                     const std::vector<std::size_t>& runs) {
  std::vector<ShardCheck> out;
  for (std::size_t run : runs) {
    ShardCheck c;
    c.path = shard_path(dir, run);
    std::error_code ec;
    const auto st = fs::symlink_status(c.path, ec);
    if (ec || st.type() == fs::file_type::not_found) {
      out.push_back(std::move(c));
      continue;
    }
    auto content = verify_shard(c.path, &c.problem);
    if (!content) {
      c.state = ShardCheck::State::Corrupt;
    } else if (content->info.run != run) {
      c.state = ShardCheck::State::Corrupt;  // a copy of another run's shard
      c.problem = fmt::format("it holds run {}, not run {}", content->info.run, run);
    } else if (content->info.config_hash != plan.runs[run].config_hash ||
               content->info.sweep_id != plan.sweep_id) {
      c.state = ShardCheck::State::Stale;
    } else {
      c.state = ShardCheck::State::Valid;
      c.content = std::move(content);
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string experiment_identity(const std::string& experiment_file) {
  std::string s = resolved_path(experiment_file);
  std::replace(s.begin(), s.end(), '\n', '?');  // one line of the description
  return s;
}

bool shard_of_plan(const Plan& plan, const ShardInfo& shard) {
  return shard.sweep_id == plan.sweep_id ||
         (!shard.experiment.empty() && shard.experiment == plan.experiment);
}

std::vector<ShardInfo> foreign_shards(const Plan& plan, const std::string& dir) {
  std::vector<ShardInfo> out;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(dir, ec))) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!run_of_shard_name(e.path().filename().string()) || !e.is_regular_file(ec)) continue;
    auto info = read_shard_info(e.path().string());
    if (info && !shard_of_plan(plan, *info)) out.push_back(std::move(*info));
  }
  std::sort(out.begin(), out.end(),
            [](const ShardInfo& a, const ShardInfo& b) { return a.path < b.path; });
  return out;
}

std::vector<std::string> remove_shards(const Plan& plan, const std::string& dir) {
  std::vector<std::string> kept;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(dir, ec))) return kept;
  remove_stale_temps(dir);
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (run_of_shard_name(name) && e.is_regular_file(ec)) {
      const auto info = read_shard_info(e.path().string());
      if (info && shard_of_plan(plan, *info)) {
        fs::remove(e.path(), ec);
        if (!ec) continue;
      }
    }
    kept.push_back(name);
  }
  std::sort(kept.begin(), kept.end());
  if (kept.empty()) fs::remove(dir, ec);  // not recursive: only if empty
  return kept;
}

std::string move_aside(const std::string& path) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  std::string target = fmt::format("{}.corrupt-{}", path, stamp);
  std::error_code ec;
  for (int n = 1; fs::exists(fs::symlink_status(target, ec)); ++n) {
    target = fmt::format("{}.corrupt-{}-{}", path, stamp, n);
  }
  if (std::rename(path.c_str(), target.c_str()) != 0) {
    throw std::runtime_error(
        fmt::format("cannot move {} aside to {}: {}", path, target, std::strerror(errno)));
  }
  return target;
}

}  // namespace infersim
