#include "toml_reader.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "oomkit/core/text.h"

namespace oomkit::sys {
namespace {

// True iff `inner` is `outer` or lies below it ("scope[1]" holds "scope[1].name", not
// "scope[10]").
bool isWithin(std::string_view inner, std::string_view outer) {
  if (inner.rfind(outer, 0) != 0) return false;
  return inner.size() == outer.size() || inner[outer.size()] == '.' || inner[outer.size()] == '[';
}

// "scope" for "scope[1]": the array an element key belongs to; other keys unchanged.
std::string_view withoutIndex(std::string_view key) {
  if (key.empty() || key.back() != ']') return key;
  return key.substr(0, key.rfind('['));
}

// The table a problem at `key` is about: "scope[1].psi" for "scope[1].psi.window",
// "scope[1].handler[0]" for "scope[1].handler[0].command[2]", "" at the top level.
std::string_view parentOf(std::string_view key) {
  key = withoutIndex(key);
  const size_t dot = key.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : key.substr(0, dot);
}

// The TOML header of an array of tables: "scope.handler" for "scope[0].handler".
std::string tableHeaderOf(std::string_view key) {
  std::string header;
  bool in_index = false;
  for (const char c : key) {
    if (c == '[') in_index = true;
    if (!in_index) header += c;
    if (c == ']') in_index = false;
  }
  return header;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

}  // namespace

std::string_view typeDescription(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "a value";
}

SourcePos positionOf(const toml::source_region& region) {
  return {std::max<uint32_t>(1, static_cast<uint32_t>(region.begin.line)),
          std::max<uint32_t>(1, static_cast<uint32_t>(region.begin.column))};
}

void Diagnostics::add(SourcePos pos, std::string key, std::string message) {
  diagnostics_.push_back({pos, std::move(key), std::move(message), true});
}

void Diagnostics::addUnknownKey(SourcePos pos, std::string key, std::string message) {
  diagnostics_.push_back({pos, std::move(key), std::move(message), false});
}

SourcePos Diagnostics::positionOf(std::string_view key) const {
  while (true) {
    if (const auto it = positions_.find(key); it != positions_.end()) return it->second;
    if (key.empty()) return {};
    const size_t cut = key.find_last_of(".[");
    key = cut == std::string_view::npos ? std::string_view{} : key.substr(0, cut);
  }
}

bool Diagnostics::shadows(std::string_view key) const {
  return std::any_of(diagnostics_.begin(), diagnostics_.end(), [&](const Diagnostic& d) {
    if (!d.value_in_error) return false;
    const std::string_view parent = parentOf(d.key);
    return d.key == key || withoutIndex(d.key) == key || (!parent.empty() && isWithin(key, parent));
  });
}

std::string Diagnostics::render(std::string_view source_name) const {
  std::vector<Diagnostic> sorted = diagnostics_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.pos.line, a.pos.column) < std::pair(b.pos.line, b.pos.column);
  });
  std::string out;
  for (const Diagnostic& d : sorted) {
    if (!out.empty()) out += '\n';
    out += std::string(source_name) + ":" + std::to_string(d.pos.line) + ":" +
           std::to_string(d.pos.column) + ": " + d.key + ": " + d.message;
  }
  return out;
}

TableReader::TableReader(const toml::table& table, std::string key, Diagnostics& diagnostics)
    : table_(&table), key_(std::move(key)), diagnostics_(&diagnostics) {
  diagnostics_->recordPosition(key_, positionOf(table.source()));
}

std::string TableReader::keyOf(std::string_view name) const {
  const std::string escaped = core::escapeBytes(name);
  return key_.empty() ? escaped : key_ + "." + escaped;
}

const toml::node* TableReader::find(std::string_view name, Need need) {
  if (std::find(asked_.begin(), asked_.end(), name) == asked_.end()) asked_.emplace_back(name);
  const toml::node* node = table_->get(name);
  if (node == nullptr) {
    if (need == Need::kRequired) {
      diagnostics_->add(positionOf(table_->source()), keyOf(name), "required key is missing");
    }
    return nullptr;
  }
  diagnostics_->recordPosition(keyOf(name), positionOf(node->source()));
  return node;
}

const toml::node* TableReader::findTyped(std::string_view name, Need need, toml::node_type type,
                                         std::string_view expected) {
  const toml::node* node = find(name, need);
  if (node == nullptr || node->type() == type) return node;
  diagnostics_->add(
      positionOf(node->source()), keyOf(name),
      "expected " + std::string(expected) + ", got " + std::string(typeDescription(node->type())));
  return nullptr;
}

std::optional<std::string> TableReader::string(std::string_view name, Need need) {
  const toml::node* node = findTyped(name, need, toml::node_type::string, "a string");
  if (node == nullptr) return std::nullopt;
  return node->as_string()->get();
}

std::optional<bool> TableReader::boolean(std::string_view name) {
  const toml::node* node = findTyped(name, Need::kOptional, toml::node_type::boolean, "a boolean");
  if (node == nullptr) return std::nullopt;
  return node->as_boolean()->get();
}

std::optional<int64_t> TableReader::integer(std::string_view name) {
  const toml::node* node = findTyped(name, Need::kOptional, toml::node_type::integer, "an integer");
  if (node == nullptr) return std::nullopt;
  return node->as_integer()->get();
}

std::optional<int32_t> TableReader::int32(std::string_view name) {
  const auto value = integer(name);
  if (!value) return std::nullopt;
  using Limits = std::numeric_limits<int32_t>;
  if (*value < Limits::min() || *value > Limits::max()) {
    fail(name, "must be between " + std::to_string(Limits::min()) + " and " +
                   std::to_string(Limits::max()));
    return std::nullopt;
  }
  return static_cast<int32_t>(*value);
}

std::optional<std::vector<std::string>> TableReader::stringArray(std::string_view name, Need need) {
  const toml::node* node = findTyped(name, need, toml::node_type::array, "an array of strings");
  if (node == nullptr) return std::nullopt;
  std::vector<std::string> out;
  const toml::array& array = *node->as_array();
  for (size_t i = 0; i < array.size(); ++i) {
    if (const auto* s = array[i].as_string()) {
      out.push_back(s->get());
      continue;
    }
    diagnostics_->add(positionOf(array[i].source()), keyOf(name) + "[" + std::to_string(i) + "]",
                      "expected a string, got " + std::string(typeDescription(array[i].type())));
  }
  if (out.size() != array.size()) return std::nullopt;
  return out;
}

std::optional<std::string> TableReader::syntaxString(std::string_view name, Need need,
                                                     std::string_view example) {
  const toml::node* node =
      findTyped(name, need, toml::node_type::string, "a string such as " + std::string(example));
  if (node == nullptr) return std::nullopt;
  return node->as_string()->get();
}

std::optional<core::Millis> TableReader::duration(std::string_view name) {
  const auto text = syntaxString(name, Need::kOptional, "\"2s\"");
  if (!text) return std::nullopt;
  auto parsed = core::parseDuration(*text);
  if (!parsed) fail(name, parsed.error().message);
  return parsed ? std::optional(*parsed) : std::nullopt;
}

std::optional<core::MemoryAmount> TableReader::memoryAmount(std::string_view name, Need need) {
  const auto text = syntaxString(name, need, "\"5%\" or \"512M\"");
  if (!text) return std::nullopt;
  auto parsed = core::parseMemoryAmount(*text);
  if (!parsed) fail(name, parsed.error().message);
  return parsed ? std::optional(*parsed) : std::nullopt;
}

std::optional<uint64_t> TableReader::byteSize(std::string_view name, Need need) {
  const auto text = syntaxString(name, need, "\"512M\"");
  if (!text) return std::nullopt;
  auto parsed = core::parseByteSize(*text);
  if (!parsed) fail(name, parsed.error().message);
  return parsed ? std::optional(*parsed) : std::nullopt;
}

std::optional<TableReader> TableReader::table(std::string_view name) {
  const toml::node* node = findTyped(name, Need::kOptional, toml::node_type::table, "a table");
  if (node == nullptr) return std::nullopt;
  return TableReader(*node->as_table(), keyOf(name), *diagnostics_);
}

std::vector<TableReader> TableReader::tableArray(std::string_view name) {
  const toml::node* node = find(name, Need::kOptional);
  if (node == nullptr) return {};
  const std::string key = keyOf(name);
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    diagnostics_->add(positionOf(node->source()), key,
                      "expected an array of tables ([[" + tableHeaderOf(key) + "]]), got " +
                          std::string(typeDescription(node->type())));
    return {};
  }
  std::vector<TableReader> out;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = (*array)[i];
    const std::string element_key = key + "[" + std::to_string(i) + "]";
    if (const toml::table* t = element.as_table()) {
      out.emplace_back(*t, element_key, *diagnostics_);
      continue;
    }
    diagnostics_->add(positionOf(element.source()), element_key,
                      "expected a table, got " + std::string(typeDescription(element.type())));
  }
  // Keep the indices of the model equal to the file's: a broken element voids the array.
  if (out.size() != array->size()) return {};
  return out;
}

void TableReader::fail(std::string_view name, std::string message) {
  const toml::node* node = table_->get(name);
  const SourcePos pos = positionOf(node != nullptr ? node->source() : table_->source());
  diagnostics_->add(pos, keyOf(name), std::move(message));
}

void TableReader::rejectUnknownKeys() {
  for (const auto& [name, node] : *table_) {
    if (std::find(asked_.begin(), asked_.end(), name.str()) != asked_.end()) continue;
    diagnostics_->addUnknownKey(positionOf(name.source()), keyOf(name.str()),
                                "unknown key (known keys: " + joined(asked_) + ")");
  }
}

}  // namespace oomkit::sys
