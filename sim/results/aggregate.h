// Result-set tables built from other tables: /aggregate (per sweep point, mean and 95%
// confidence half-width across replications) and the terminal summary of a result set.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/results/table.h"

namespace infersim {

// The 0.975 quantile of Student's t with `df` >= 1 degrees of freedom: the factor of a
// two-sided 95% confidence interval. Exact table up to 30, a Cornish-Fisher expansion
// beyond (error < 1e-7); no libm special functions, so the value is the same everywhere.
double student_t_975(std::int64_t df);

// Columns of /summary that are not metrics: identifiers, and wall_s (not reproducible).
bool is_summary_key_column(const std::string& name);

// /aggregate: one row per sweep point present in `summary` (rows in run order, run r being
// point r / replications). Columns: point, the swept columns, policy, replications (rows in
// the group), then for every other numeric column m of /summary (not run, replication,
// seed, wall_s): m_mean and m_ci95, the half-width of the 95% Student-t interval of the
// mean (NaN with fewer than 2 replications).
Table aggregate_table(const Table& summary, const std::vector<std::string>& swept_columns,
                      int replications);

// The terminal summary: one line per run (or per point with its mean ± ci95 when
// `aggregate` is given), the swept values first; per-tenant lines for a single run.
// Prints at most `max_rows` rows (then a "... N more" line).
void print_result_tables(std::ostream& out, const Table& summary, const Table& tenants,
                         const Table* aggregate, const std::vector<std::string>& swept_columns,
                         std::size_t max_rows = 200);

}  // namespace infersim
