#include "sim/kernels/architecture.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <ios>
#include <map>
#include <set>
#include <stdexcept>

#include "sim/core/error.h"

namespace infersim::kernels {
namespace {

// yaml-cpp marks are 0-based; ours are 1-based. Nodes are read through const references
// only (non-const operator[] inserts keys).
// A node without a position (an empty document) stands for the whole file: file:1:1, as
// read_input_file reports whole-file problems.
Mark mark_of(const YAML::Node& n, const std::string& file) {
  const YAML::Mark m = n.Mark();
  if (m.is_null()) return Mark{file, 1, 1};
  return Mark{file, m.line + 1, m.column + 1};
}

// What a node is, for messages.
const char* kind_of(const YAML::Node& n) {
  return n.IsScalar() ? "a scalar" : n.IsSequence() ? "a list" : n.IsMap() ? "a mapping" : "empty";
}

// The range of an integer field, and why: each bound keeps the shapes, FLOPs and bytes a
// layer derives (graph.cc, at most kMaxLayerCount elements each) exact in int64, and lies far
// beyond every network in hardware_profiles/architectures (inputs up to 3x299x299 and
// 1152x8x16, at most 2048 channels, 7-wide windows, strides 2, padding 3, 64 groups).
struct Bounds {
  std::int64_t lo, hi;
  const char* why;
};
// A side of 65536 pixels is a 4-gigapixel image; ImageNet networks take 224-331.
constexpr Bounds kExtent{1, 65536, "at most 2^16"};
// 2^20 channels or features: 512 times the widest layer of the shipped networks.
constexpr Bounds kChannels{1, 1 << 20, "at most 2^20"};
// Windows and strides no larger than the largest input side; padding no larger either.
constexpr Bounds kWindow{1, 65536, "at most 2^16, the largest input side"};
constexpr Bounds kPadding{0, 65536, "at most 2^16, the largest input side"};
// No more groups than the most channels.
constexpr Bounds kGroups{1, 1 << 20, "at most 2^20, the most channels"};

// A mapping read key by key: duplicate and unknown keys are errors (yaml-cpp accepts
// duplicates silently).
class Fields {
 public:
  Fields(const YAML::Node& node, const std::string& file, const std::string& what,
         const std::vector<std::string>& valid)
      : node_(node), file_(file), what_(what) {
    if (!node.IsMap()) {
      throw InputError(mark_of(node, file),
                       fmt::format("expected a mapping for the {}, got {}", what, kind_of(node)));
    }
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        throw InputError(
            mark_of(kv.first, file),
            fmt::format("expected a key name in the {}, got {}", what, kind_of(kv.first)));
      }
      const std::string key = kv.first.Scalar();
      if (std::find(valid.begin(), valid.end(), key) == valid.end()) {
        throw InputError(mark_of(kv.first, file),
                         fmt::format("unknown key '{}' in {} (expected one of: {})", key, what,
                                     fmt::join(valid, ", ")));
      }
      if (!values_.emplace(key, kv.second).second) {
        throw InputError(mark_of(kv.first, file),
                         fmt::format("duplicate key '{}' in {}", key, what));
      }
    }
  }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const YAML::Node& get(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) {
      throw InputError(mark_of(node_, file_), fmt::format("missing key '{}' in {}", key, what_));
    }
    return it->second;
  }
  Mark mark(const std::string& key) const { return mark_of(get(key), file_); }
  std::string str(const std::string& key) const {
    const YAML::Node& n = get(key);
    if (!n.IsScalar()) throw InputError(mark(key), fmt::format("expected a string for '{}'", key));
    return n.as<std::string>();
  }
  // An integer in [lo, hi] (Bounds below), else an error at the value.
  std::int64_t integer(const YAML::Node& n, const std::string& key, const Bounds& b) const {
    std::int64_t v = 0;
    bool ok = n.IsScalar();
    try {
      if (ok) v = n.as<std::int64_t>();
    } catch (const YAML::Exception&) {
      ok = false;
    }
    if (!ok) throw InputError(mark_of(n, file_), fmt::format("expected an integer for '{}'", key));
    if (v < b.lo || v > b.hi) {
      throw InputError(
          mark_of(n, file_),
          fmt::format("expected '{}' between {} and {} ({}), got {}", key, b.lo, b.hi, b.why, v));
    }
    return v;
  }
  std::int64_t integer(const std::string& key, const Bounds& b, std::int64_t def) const {
    return has(key) ? integer(get(key), key, b) : def;
  }
  bool boolean(const std::string& key, bool def) const {
    if (!has(key)) return def;
    try {
      return get(key).as<bool>();
    } catch (const YAML::Exception&) {
      throw InputError(mark(key), fmt::format("expected true or false for '{}'", key));
    }
  }
  // An int or a two-element [h, w] list, each in `b` (whose bounds lie within int).
  std::pair<int, int> pair(const std::string& key, const Bounds& b, int def) const {
    if (!has(key)) return {def, def};
    const YAML::Node& n = get(key);
    if (n.IsSequence()) {
      if (n.size() != 2) throw InputError(mark(key), fmt::format("expected [h, w] for '{}'", key));
      return {static_cast<int>(integer(n[0], key, b)), static_cast<int>(integer(n[1], key, b))};
    }
    const auto v = static_cast<int>(integer(n, key, b));
    return {v, v};
  }
  std::vector<std::string> strings(const std::string& key) const {
    const YAML::Node& n = get(key);
    if (!n.IsSequence()) throw InputError(mark(key), fmt::format("expected a list for '{}'", key));
    std::vector<std::string> out;
    for (const auto& e : n) {
      if (!e.IsScalar()) throw InputError(mark_of(e, file_), "expected a name");
      out.push_back(e.as<std::string>());
    }
    return out;
  }

 private:
  YAML::Node node_;
  std::string file_, what_;
  std::map<std::string, YAML::Node> values_;
};

struct OpInfo {
  LayerKind kind;
  std::vector<std::string> keys;  // besides name, op, in
};

const std::map<std::string, OpInfo>& ops() {
  static const std::map<std::string, OpInfo> table = {
      {"conv", {LayerKind::kConv, {"out", "k", "s", "p", "g", "bias"}}},
      {"fc", {LayerKind::kFullyConnected, {"out", "bias"}}},
      {"maxpool", {LayerKind::kPool, {"k", "s", "p", "ceil"}}},
      {"avgpool", {LayerKind::kPool, {"k", "s", "p", "ceil"}}},
      {"gap", {LayerKind::kPool, {}}},
      {"bn", {LayerKind::kElementwise, {}}},
      {"relu", {LayerKind::kElementwise, {}}},
      {"add", {LayerKind::kAdd, {}}},
      {"concat", {LayerKind::kConcat, {}}},
  };
  return table;
}

LayerSpec read_layer(const YAML::Node& node, const std::string& file,
                     const std::map<std::string, std::uint32_t>& index) {
  // First pass: the op decides which keys are valid.
  if (!node.IsMap()) throw InputError(mark_of(node, file), "expected a layer mapping");
  const YAML::Node op_node = node["op"];
  std::vector<std::string> op_names;
  for (const auto& [name, info] : ops()) op_names.push_back(name);
  if (!op_node || !op_node.IsScalar()) {
    throw InputError(mark_of(node, file), "missing key 'op' in layer");
  }
  const std::string op = op_node.as<std::string>();
  auto it = ops().find(op);
  if (it == ops().end()) {
    throw InputError(mark_of(op_node, file), fmt::format("unknown op '{}' (expected one of: {})",
                                                         op, fmt::join(op_names, ", ")));
  }
  std::vector<std::string> valid = {"name", "op", "in"};
  valid.insert(valid.end(), it->second.keys.begin(), it->second.keys.end());
  const Fields f(node, file, fmt::format("{} layer", op), valid);

  LayerSpec spec;
  Layer& l = spec.layer;
  l.name = f.str("name");
  l.kind = it->second.kind;
  for (const std::string& in : f.strings("in")) {
    auto found = index.find(in);
    if (found == index.end()) {
      throw InputError(f.mark("in"), fmt::format("layer '{}' reads '{}', which is not an "
                                                 "earlier layer",
                                                 l.name, in));
    }
    spec.from.push_back(found->second);
  }
  if (l.kind == LayerKind::kConv || l.kind == LayerKind::kFullyConnected) {
    spec.out_channels = f.integer(f.get("out"), "out", kChannels);
    l.bias = f.boolean("bias", l.kind == LayerKind::kFullyConnected);
  }
  if (l.kind == LayerKind::kConv || (l.kind == LayerKind::kPool && op != "gap")) {
    f.get("k");  // required: a missing window is an error at the layer
    std::tie(l.kernel_h, l.kernel_w) = f.pair("k", kWindow, 0);
    std::tie(l.stride_h, l.stride_w) = f.pair("s", kWindow, 1);
    std::tie(l.pad_h, l.pad_w) = f.pair("p", kPadding, 0);
  }
  if (l.kind == LayerKind::kConv) l.groups = static_cast<int>(f.integer("g", kGroups, 1));
  if (l.kind == LayerKind::kPool) {
    l.pool = op == "maxpool"   ? PoolKind::kMax
             : op == "avgpool" ? PoolKind::kAvg
                               : PoolKind::kGlobalAvg;
    l.ceil_mode = f.boolean("ceil", false);
  }
  if (l.kind == LayerKind::kElementwise) {
    l.elementwise = op == "bn" ? ElementwiseKind::kBatchNorm : ElementwiseKind::kRelu;
  }
  return spec;
}

}  // namespace

Architecture load_architecture(const std::string& path) {
  // Whole-file problems are reported at path:1:1, as read_input_file does.
  const Mark whole{path, 1, 1};
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) throw InputError(whole, "cannot open file");
  if (std::filesystem::is_directory(st)) {
    throw InputError(whole, "is a directory; expected an architecture file");
  }
  if (!std::filesystem::is_regular_file(st)) {
    throw InputError(whole, "is not a regular file; expected an architecture file");
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    throw InputError(Mark{path, e.mark.line + 1, e.mark.column + 1}, e.msg);
  } catch (const YAML::Exception&) {
    throw InputError(whole, "cannot read the architecture file");
  } catch (const std::ios_base::failure& e) {
    throw InputError(whole, fmt::format("cannot read the architecture file: {}", e.what()));
  }
  if (root.IsNull()) throw InputError(whole, "the file is empty; expected a YAML mapping");
  const Fields top(root, path, "architecture",
                   {"name", "description", "clockwork", "library", "input", "layers"});
  const std::string name = top.str("name");
  GemmLibrary library = GemmLibrary::kTvm;
  if (top.has("library")) {
    const std::string lib = top.str("library");
    if (lib == "cublas") {
      library = GemmLibrary::kCublas;
    } else if (lib != "tvm") {
      throw InputError(top.mark("library"),
                       fmt::format("unknown library '{}' (expected tvm or cublas)", lib));
    }
  }
  const std::string description = top.has("description") ? top.str("description") : "";
  const std::vector<std::string> clockwork =
      top.has("clockwork") ? top.strings("clockwork") : std::vector<std::string>{};
  std::vector<Mark> clockwork_marks;
  if (top.has("clockwork")) {
    for (const auto& row : top.get("clockwork")) clockwork_marks.push_back(mark_of(row, path));
  }
  const YAML::Node& in = top.get("input");
  if (!in.IsSequence() || in.size() != 3) {
    throw InputError(top.mark("input"), "expected [C, H, W] for 'input'");
  }
  const Shape input = {top.integer(in[0], "input", kExtent), top.integer(in[1], "input", kExtent),
                       top.integer(in[2], "input", kExtent)};
  const YAML::Node& layers = top.get("layers");
  if (!layers.IsSequence() || layers.size() == 0) {
    throw InputError(top.mark("layers"), "expected a non-empty list of layers");
  }

  std::map<std::string, std::uint32_t> index = {{"data", 0}};
  std::vector<LayerSpec> specs;
  std::vector<Mark> marks;
  for (const auto& node : layers) {
    LayerSpec spec = read_layer(node, path, index);
    if (!index.emplace(spec.layer.name, static_cast<std::uint32_t>(specs.size() + 1)).second) {
      throw InputError(mark_of(node, path),
                       fmt::format("duplicate layer name '{}'", spec.layer.name));
    }
    marks.push_back(mark_of(node, path));
    specs.push_back(std::move(spec));
  }
  try {
    Architecture a = build_architecture(name, clockwork, input, specs);
    a.description = description;
    a.library = library;
    a.path = path;
    a.mark = top.mark("name");
    a.clockwork_marks = std::move(clockwork_marks);
    return a;
  } catch (const std::invalid_argument& e) {
    // Name the offending layer's line: the message starts "layer 'NAME':".
    // The input's problems ("layer 'data':") belong to `input`.
    const std::string msg = e.what();
    Mark where = msg.rfind("layer 'data':", 0) == 0 ? top.mark("input") : Mark{path, 1, 1};
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (msg.rfind(fmt::format("layer '{}':", specs[i].layer.name), 0) == 0) where = marks[i];
    }
    throw InputError(where, msg);
  }
}

std::vector<Architecture> load_architectures(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".yaml") paths.push_back(entry.path().string());
  }
  if (ec) throw InputError(Mark{dir, 1, 1}, "cannot list the architecture directory");
  std::sort(paths.begin(), paths.end());
  std::vector<Architecture> out;
  // Every name and Clockwork row a model may be looked up by (find_for_model), and where it
  // is first written: a second file claiming one would shadow the first, or be shadowed.
  std::map<std::string, Mark> owner;
  auto claim = [&](const std::string& key, const Mark& where, const std::string& what) {
    const auto [it, fresh] = owner.emplace(key, where);
    if (!fresh && it->second.file != where.file) {
      throw InputError(where, fmt::format("{} '{}' is already defined at {}", what, key,
                                          format_mark(it->second)));
    }
  };
  for (const std::string& p : paths) {
    out.push_back(load_architecture(p));
    const Architecture& a = out.back();
    claim(a.name, a.mark, "architecture");
    for (std::size_t i = 0; i < a.clockwork.size(); ++i) {
      claim(a.clockwork[i], a.clockwork_marks[i], "Clockwork row");
    }
  }
  return out;
}

const Architecture* find_for_model(const std::vector<Architecture>& archs,
                                   const std::string& model) {
  for (const Architecture& a : archs) {
    if (a.name == model) return &a;
  }
  for (const Architecture& a : archs) {
    if (std::find(a.clockwork.begin(), a.clockwork.end(), model) != a.clockwork.end()) return &a;
  }
  return nullptr;
}

}  // namespace infersim::kernels
