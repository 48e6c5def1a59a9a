// Counts the heap allocations of the whole process while a piece of code runs: every form of
// operator new and, in builds without sanitizers on glibc, malloc and its relatives too (so the
// allocations of C libraries such as XNNPACK and pthreadpool are seen). Linking this file
// replaces the process's global allocation functions.
#pragma once

#include <functional>

namespace polyhead::testing {

long count_allocations(const std::function<void()>& body);

// True when malloc and friends are counted as well as operator new.
bool counts_c_allocations();

// While on, operator new throws std::bad_alloc (to check that API boundaries turn it into codes).
void fail_allocations(bool on);

}  // namespace polyhead::testing
