// Plain in-memory tables of a result set (/summary, /tenants, /aggregate): typed columns
// and rows of cells. No HDF5 here, so code that only builds or reads tables (sweep
// expansion, aggregation) does not depend on the HDF5 headers.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace infersim {

enum class ColType { Int64, Float64, String };
using Cell = std::variant<std::int64_t, double, std::string>;

// A small table written as one 1-D compound dataset (one row per element).
struct Table {
  std::vector<std::string> names;
  std::vector<ColType> types;
  std::vector<std::vector<Cell>> rows;  // each row has names.size() cells, of the column's type
  void add_column(std::string name, ColType t);  // only before rows are added
  // Index of the column called `name`, or -1.
  int column(const std::string& name) const;
};

}  // namespace infersim
