/*
 * fault: fault-injection points for crash tests. A process whose
 * environment has FRUGAL_FAULT=<step> calls _exit(99) when it reaches
 * fault_point("<step>"), as if it had been killed right there;
 * FRUGAL_FAULT=<step>@N crashes the N-th time the step is reached.
 * FRUGAL_FAULT_LOG=<file> appends every point reached (to list them).
 * FRUGAL_FAULT_STOP=<step> stops the process there (SIGSTOP) the first
 * time, so a test can change the world before it goes on (SIGCONT).
 */
#ifndef FRUGAL_BASE_FAULT_H
#define FRUGAL_BASE_FAULT_H

void fault_point(const char *step);

#endif
