// Small helpers shared by the subcommands of the `sluice` tool.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core.hpp"

namespace sluice::tool {

// Prints "sluice: error: <message>" as one line on stderr (see one_line).
void print_error(std::string_view message);
// The message on one line: its lines, trimmed, joined by "; " (by " " after a line that ends with ':').
std::string one_line(std::string_view message);

// Splits "KEY=VALUE" at the first '='; throws sluice::Error naming `what` (e.g. "-i") when there is no
// '=' or the key is empty.
std::pair<std::string, std::string> split_key_value(const std::string& text, const std::string& what);

// "NAME=VALUE" options as a map; throws sluice::Error naming `flag` for a repeated name or a missing '='.
std::map<std::string, std::string> parse_named(const std::vector<std::string>& items,
                                               const std::string& flag);
// -p KEY=VALUE options as compile properties (string values: the device validates and converts them).
AnyMap parse_properties(const std::vector<std::string>& items);

// The device to use: `requested` when not empty, else CPU when available, else REF.
std::string choose_device(const Core& core, const std::string& requested);

// Dimensions "1,3,224,224" or "[1,3,224,224]" ("" or "[]" for a scalar); throws sluice::Error starting
// with `what` (the option as given, e.g. "-s x=1,3") when an item is not a non-negative integer.
Shape parse_dims(std::string text, const std::string& what);

// "'a', 'b'" (or "none"): the names of ports, for error messages.
std::string port_names(const std::vector<PortInfo>& ports);
// The model's input of that name; throws sluice::Error naming `flag` and listing the inputs otherwise.
const PortInfo& find_input(const Model& model, const std::string& name, const std::string& flag);

// A file name made from a port name: characters other than letters, digits, '.', '-' and '_' become '_';
// a name that is empty or only dots gets a leading "_" (so that it is never "", "." or "..").
std::string sanitize_file_name(const std::string& name);

}  // namespace sluice::tool
