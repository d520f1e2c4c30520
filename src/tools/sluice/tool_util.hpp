// Small helpers shared by the subcommands of the `sluice` tool.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "sluice/core.hpp"

namespace sluice::tool {

// Prints "sluice: error: <message>" as one line on stderr (see one_line).
void print_error(std::string_view message);
// The message on one line: its lines, trimmed, joined by "; " (by " " after a line that ends with ':').
std::string one_line(std::string_view message);

// Splits "KEY=VALUE" at the first '='; throws sluice::Error naming `what` (e.g. "-i") when there is no
// '=' or the key is empty.
std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& what);

// The device to use: `requested` when not empty, else CPU when available, else REF.
std::string choose_device(const Core& core, const std::string& requested);

// A file name made from a port name: characters other than letters, digits, '.', '-' and '_' become '_';
// a name that is empty or only dots gets a leading "_" (so that it is never "", "." or "..").
std::string sanitize_file_name(const std::string& name);

}  // namespace sluice::tool
