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

// Fault injection: from this call on, every allocation is numbered (operator new, and malloc and
// its relatives where counts_c_allocations()), and the `k`-th (from 1) fails as memory running
// out would: operator new throws std::bad_alloc, the C functions return null. k = 0 numbers only.
// In builds that count C allocations, one operator new is numbered twice (it calls malloc).
void arm_allocation_failure(long k);
// Stops numbering; returns how many allocations were numbered since arm_allocation_failure.
long disarm_allocation_failure();
// Whether the armed failure happened.
bool allocation_failure_injected();

// Heap blocks allocated and not yet freed in the whole process, or -1 where the C allocation
// functions are not replaced (sanitizer builds: LeakSanitizer checks leaks there).
long live_blocks();

}  // namespace polyhead::testing
