// Strict YAML reading (sim/config/yaml_reader.h) against hostile input: aliases, names,
// control characters in messages, files that are not files, --set values.
#include "sim/config/yaml_reader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "sim/config/overrides.h"
#include "sim/core/error.h"

namespace infersim {
namespace {

std::string error_of(const std::string& text) {
  try {
    load_yaml_string(text, "t.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

// Before: a self-referencing alias made the duplicate-key check recurse until the stack
// overflowed (a segfault).
TEST(YamlAliases, SelfReferenceIsAnErrorNotACrash) {
  EXPECT_EQ(error_of("name: x\nextra: &r [*r]\n"),
            "t.yaml:2:12: YAML aliases (*name) are not supported: they would make several "
            "settings one node; write the value out");
  EXPECT_NE(error_of("a: &m {b: *m}\n").find("t.yaml:1:11: YAML aliases"), std::string::npos);
}

// Before: nine levels of nine aliases (9^9 = 387 million nodes when walked as a tree) took
// 69 s to report an unknown key. The first alias is now an error, in well under a second.
TEST(YamlAliases, AliasBombIsRefusedAtOnce) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string prev = fmt::format("*a{}", i - 1);
    text += fmt::format("a{}: &a{} [{}, {}, {}, {}, {}, {}, {}, {}, {}]\n", i, i, prev, prev, prev,
                        prev, prev, prev, prev, prev, prev);
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NE(error_of(text).find("t.yaml:2:10: YAML aliases"), std::string::npos);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
}

TEST(YamlAliases, AnchorsWithoutAliasesAndStarsInTextAreFine) {
  EXPECT_EQ(error_of("a: &x 1\nb: 'a * b'\nc: \"*not an alias\"\n"), "(no error)");
}

TEST(YamlDocuments, OneDocumentOnly) {
  EXPECT_EQ(error_of("---\na: 1\n"), "(no error)");
  EXPECT_EQ(error_of("a: 1\n---\nb: 2\n"),
            "t.yaml:2:1: expected one YAML document, found a second one (a '---' line)");
  EXPECT_EQ(error_of(""), "t.yaml:1:1: the file is empty; expected a YAML mapping");
  EXPECT_EQ(error_of("  # nothing\n\n"), "t.yaml:1:1: the file is empty; expected a YAML mapping");
}

// Every InputError is one line: control characters and invalid UTF-8 are escaped, so a
// key holding a newline cannot split the message.
TEST(OneLine, EscapesControlCharactersAndInvalidUtf8) {
  EXPECT_EQ(one_line("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(one_line(std::string("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(one_line("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(one_line("bad\xff\xfe"), "bad\\xff\\xfe");
  EXPECT_EQ(one_line("\xc2\x85"), "\\u0085");                                   // C1 control NEL
  EXPECT_EQ(one_line("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");  // kept
  EXPECT_EQ(one_line("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate: not UTF-8
  EXPECT_EQ(one_line("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  InputError e(Mark{"f\n.yaml", 2, 3}, "unknown key 'se\ned'");
  EXPECT_EQ(std::string(e.what()), "f\\n.yaml:2:3: unknown key 'se\\ned'");
  EXPECT_EQ(e.message(), "unknown key 'se\ned'");
}

TEST(Names, MustBePrintableUtf8) {
  EXPECT_TRUE(is_printable_utf8("resnet50_v1/3"));
  EXPECT_TRUE(is_printable_utf8("caf\xc3\xa9"));
  EXPECT_FALSE(is_printable_utf8("\xff\xfe"));
  EXPECT_FALSE(is_printable_utf8(std::string("a\0b", 3)));
  EXPECT_FALSE(is_printable_utf8("a\tb"));
  EXPECT_FALSE(is_printable_utf8("\x7f"));
  auto name_error = [](const std::string& yaml) {
    YAML::Node n = load_yaml_string(yaml, "n.yaml");
    try {
      yaml_name(n["name"], "n.yaml", "tenant name");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(name_error("name: t\xff\xfe\n"),
            "n.yaml:1:7: tenant name 't\\xff\\xfe' must be valid UTF-8 without control characters");
  EXPECT_EQ(name_error("name: \"a\\0b\"\n"),
            "n.yaml:1:7: tenant name 'a\\x00b' must be valid UTF-8 without control characters");
  EXPECT_EQ(name_error("name: ''\n"), "n.yaml:1:7: expected a non-empty tenant name");
  EXPECT_EQ(name_error("name: " + std::string(256, 'n') + "\n"),
            "n.yaml:1:7: tenant name is 256 bytes long; at most 255 are allowed");
  EXPECT_EQ(name_error("name: [a]\n"), "n.yaml:1:7: expected a string for 'tenant name'");
  EXPECT_EQ(name_error("name: caf\xc3\xa9\n"), "(no error)");
}

class InputFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("infersim_yaml_reader_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string error_reading(const std::string& path) {
    try {
      read_input_file(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no error)";
  }
  std::filesystem::path dir_;
};

// Before: `run /dev/zero` or a FIFO read until memory ran out; a directory or an empty file
// got no position.
TEST_F(InputFiles, OnlySmallRegularFilesAreRead) {
  const std::string d = dir_.string();
  EXPECT_EQ(error_reading(d), d + ":1:1: is a directory; expected a YAML file");
  EXPECT_EQ(
      error_reading("/dev/zero"),
      "/dev/zero:1:1: is not a regular file (a device, FIFO or socket); expected a YAML file");
  const std::string fifo = d + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_reading(fifo),
            fifo + ":1:1: is not a regular file (a device, FIFO or socket); expected a YAML file");
  EXPECT_EQ(error_reading(d + "/none.yaml"),
            d + "/none.yaml:1:1: cannot open file: No such file or directory");
  const std::string big = d + "/big.yaml";
  std::ofstream(big) << std::string(kMaxInputFileBytes + 1, '#');
  EXPECT_EQ(error_reading(big),
            big + ":1:1: file is larger than 1 MiB, the most an input file may hold");
  const std::string fits = d + "/fits.yaml";
  std::ofstream(fits) << std::string(kMaxInputFileBytes, '#');
  EXPECT_EQ(read_input_file(fits).size(), kMaxInputFileBytes);
}

// --set values are checked like files, and every error names the argument.
TEST(SetValues, DuplicateKeysAndAliasesAreRejectedAtTheArgument) {
  YAML::Node root = load_yaml_string("name: x\npolicy: {name: mps}\n", "f.yaml");
  auto set_error = [&](const std::string& assignment) {
    try {
      apply_set_in_place(root, assignment);
    } catch (const InputError& e) {
      clear_overrides();
      return std::string(e.what());
    }
    clear_overrides();
    return std::string("(no error)");
  };
  EXPECT_EQ(set_error("policy={name: mps, name: exclusive}"),
            "--set policy={name: mps, name: exclusive}: duplicate key 'name' (at column 13 of the "
            "value)");
  EXPECT_EQ(set_error("name=&a [*a]"),
            "--set name=&a [*a]: YAML aliases (*name) are not supported: they would make several "
            "settings one node; write the value out (at column 5 of the value)");
  EXPECT_EQ(set_error("policy.name=time_sliced"), "(no error)");
}

// A key a --set adds has no place in the file: errors about it name the --set.
TEST(SetValues, NewKeysAreReportedAtTheSet) {
  YAML::Node root = load_yaml_string("name: x\nhardware: {count: 1}\n", "f.yaml");
  apply_set_in_place(root, "hardware.gpus=2");
  const YAML::Node& hw = root["hardware"];
  bool found = false;
  for (auto it = hw.begin(); it != hw.end(); ++it) {
    if (it->first.Scalar() != "gpus") continue;
    found = true;
    EXPECT_EQ(format_mark(mark_of(it->first, "f.yaml")), "--set hardware.gpus=2");
    EXPECT_EQ(format_mark(mark_of(it->second, "f.yaml")), "--set hardware.gpus=2");
  }
  EXPECT_TRUE(found);
  clear_overrides();
}

}  // namespace
}  // namespace infersim
