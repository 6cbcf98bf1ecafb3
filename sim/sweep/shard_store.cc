#include "sim/sweep/shard_store.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <sstream>

#include "sim/results/hdf5_writer.h"

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

extern "C" void remove_temps_and_die(int sig) {
  const std::size_t n = g_temp_count.load();
  for (std::size_t i = 0; i < n; ++i) {
    if (g_temp_slots[i][0] != '\0') ::unlink(g_temp_slots[i]);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

TempFiles::TempFiles(std::size_t slots) : slots_(new char[slots][kPathMax]()) {
  static_assert(kPathMax == kSlotChars);
  g_temp_slots = slots_;
  g_temp_count = slots;
  old_int_ = std::signal(SIGINT, remove_temps_and_die);
  old_term_ = std::signal(SIGTERM, remove_temps_and_die);
}

TempFiles::~TempFiles() {
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
  g_temp_count = 0;
  g_temp_slots = nullptr;
  delete[] slots_;
}

void TempFiles::set(std::size_t slot, const std::string& path) {
  slots_[slot][0] = '\0';
  std::size_t n = std::min(path.size(), kPathMax - 1);
  std::memcpy(slots_[slot] + 1, path.data() + 1, n > 0 ? n - 1 : 0);
  slots_[slot][n] = '\0';
  slots_[slot][0] = n > 0 ? path[0] : '\0';  // published last
}

void TempFiles::clear(std::size_t slot) { slots_[slot][0] = '\0'; }

// Removes "<name>.tmp.<pid>" files in `dir` whose process is gone (left by a killed run).
void remove_stale_temps(const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!prefix.empty() && name.compare(0, prefix.size(), prefix) != 0) continue;
    auto pos = name.rfind(".tmp.");
    if (pos == std::string::npos) continue;
    char* end = nullptr;
    long pid = std::strtol(name.c_str() + pos + 5, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    fs::remove(e.path(), ec);
  }
}

std::string shard_info_text(const ShardInfo& s) {
  return fmt::format(
      "run={}\npoint={}\nreplication={}\nruns_total={}\nreplications={}\nconfig_hash={}\n"
      "sweep_id={}\nrequests={}\n",
      s.run, s.point, s.replication, s.runs_total, s.replications, s.config_hash, s.sweep_id,
      s.requests ? 1 : 0);
}

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
  if (s.replications < 1 || s.run >= s.runs_total) return std::nullopt;
  return s;
}

std::string shard_path(const std::string& shard_dir, std::size_t run) {
  return (fs::path(shard_dir) / fmt::format("run-{:06}.h5", run)).string();
}

std::vector<std::optional<ShardInfo>> valid_shards(const Plan& plan, const std::string& dir,
                                                   const std::vector<std::size_t>& runs) {
  std::vector<std::optional<ShardInfo>> out;
  for (std::size_t run : runs) {
    auto info = read_shard_info(shard_path(dir, run));
    if (info && (info->config_hash != plan.runs[run].config_hash || info->run != run)) {
      info.reset();
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace infersim
