// sys/toml_reader.h — typed, strict reading of toml++ tables for the config loader.
//
// A TableReader hands out one table's values by key, checking each value's type and syntax,
// and afterwards reports every key nobody asked for as unknown. Every problem is recorded in
// a Diagnostics with its source position and key path ("scope[1].watermarks.low"), so the
// loader can report all of them at once; the positions of the keys that were read are kept
// too, to place the core's validation issues. Internal to oomkit_sys: the only code that
// includes toml++. Not thread-safe (one load at a time per Diagnostics).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <vector>

#include "oomkit/core/config_values.h"

namespace oomkit::sys {

struct SourcePos {
  uint32_t line = 1;
  uint32_t column = 1;
};

struct Diagnostic {
  SourcePos pos;
  std::string key;
  std::string message;
  bool value_in_error = true;  // false for an unknown key: it changes no value that was read
};

class Diagnostics {
 public:
  void add(SourcePos pos, std::string key, std::string message);
  void addUnknownKey(SourcePos pos, std::string key, std::string message);
  void recordPosition(const std::string& key, SourcePos pos) { positions_[key] = pos; }
  // The position of `key`, or of its nearest recorded ancestor ("scope[1].policy" for
  // "scope[1].policy.panic_command" when that key is absent), or 1:1.
  SourcePos positionOf(std::string_view key) const;
  // True iff a recorded problem with a value makes a validation issue about `key` unreliable
  // (the values involved may be defaults): one at `key` or at an element of it, or one in a table
  // that holds `key` ("scope[1].cgroup" shadows everything in scope[1]; "scope[1].psi.window" only
  // what is in scope[1].psi).
  bool shadows(std::string_view key) const;
  bool empty() const { return diagnostics_.empty(); }
  // One "SOURCE:LINE:COLUMN: KEY: MESSAGE" line per problem, in file order.
  std::string render(std::string_view source_name) const;

 private:
  std::vector<Diagnostic> diagnostics_;
  std::map<std::string, SourcePos, std::less<>> positions_;
};

enum class Need { kOptional, kRequired };

class TableReader {
 public:
  // `key` is the table's key path ("" for the document's root table).
  TableReader(const toml::table& table, std::string key, Diagnostics& diagnostics);

  const std::string& key() const { return key_; }
  std::string keyOf(std::string_view name) const;

  // Each getter returns nullopt when the key is absent (a problem only with Need::kRequired)
  // or its value is of the wrong type or syntax (always a problem, recorded).
  std::optional<std::string> string(std::string_view name, Need need = Need::kOptional);
  std::optional<bool> boolean(std::string_view name);
  std::optional<int32_t> int32(std::string_view name);
  std::optional<int64_t> integer(std::string_view name);
  std::optional<std::vector<std::string>> stringArray(std::string_view name,
                                                      Need need = Need::kOptional);
  std::optional<core::Millis> duration(std::string_view name);
  std::optional<core::MemoryAmount> memoryAmount(std::string_view name,
                                                 Need need = Need::kOptional);
  std::optional<uint64_t> byteSize(std::string_view name, Need need = Need::kOptional);
  std::optional<TableReader> table(std::string_view name);
  std::vector<TableReader> tableArray(std::string_view name);

  // Records a problem with the value of `name` (at the value, or at the table if absent).
  void fail(std::string_view name, std::string message);
  // Records every key of the table that no getter asked for. Call once, after reading.
  void rejectUnknownKeys();

 private:
  const toml::node* find(std::string_view name, Need need);
  const toml::node* findTyped(std::string_view name, Need need, toml::node_type type,
                              std::string_view expected);
  std::optional<std::string> syntaxString(std::string_view name, Need need,
                                          std::string_view example);

  const toml::table* table_;
  std::string key_;
  Diagnostics* diagnostics_;
  std::vector<std::string> asked_;
};

// "an integer", "a string", ... for messages.
std::string_view typeDescription(toml::node_type type);
SourcePos positionOf(const toml::source_region& region);

}  // namespace oomkit::sys
