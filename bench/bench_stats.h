// The order statistics the benchmarks report, on samples in milliseconds.
#pragma once

#include <algorithm>
#include <vector>

namespace pipeline::bench {

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

inline double P90(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() * 9 / 10];
}

}  // namespace pipeline::bench
