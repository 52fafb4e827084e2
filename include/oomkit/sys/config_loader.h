// oomkit/sys/config_loader.h — reads the TOML configuration file (docs/config.md) into the
// plain model of oomkit/core/config.h, strictly.
//
// Unknown keys, values of the wrong type, bad sizes and durations, missing required keys and
// every rule of core::validateConfig() are errors. Each error is one line
// "SOURCE:LINE:COLUMN: KEY: what" (KEY is a path such as "scope[1].watermarks.low"; indices
// count from 0); a TOML syntax error is "SOURCE:LINE:COLUMN: syntax error: what". All problems
// found are reported at once, in file order, joined by '\n' in Error::message; a rule that
// relates values to each other is not reported where a value it reads is already in error
// (in the same table or an enclosing one). toml++'s exceptions stop here. Thread-safe (no shared
// state).
#pragma once

#include <string>
#include <string_view>

#include "oomkit/core/config.h"
#include "oomkit/result.h"

namespace oomkit::sys {

// Parses `text` as a configuration; `source_name` names it in messages (a path, or
// "<embedded default>"). Errc::kParse for a TOML syntax error, Errc::kInvalidArgument for a
// well-formed file that breaks the schema or the rules.
Result<core::Config> loadConfigText(std::string_view text, std::string_view source_name);

// loadConfigText() of the file at `path`; errors of reading it as sys::readFile() returns them
// ("PATH: No such file or directory", Errc::kNotFound).
Result<core::Config> loadConfigFile(const std::string& path);

// The embedded default (core::defaultConfigToml()), named "<embedded default>".
Result<core::Config> loadDefaultConfig();

}  // namespace oomkit::sys
