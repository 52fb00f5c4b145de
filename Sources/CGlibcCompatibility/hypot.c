// glibc 2.35 gave hypot and hypotf new symbol versions, so a binary linked on a newer build host
// (Debian 12 has 2.36) binds to them and will not start on provided.al2023, whose glibc is 2.34:
// "version `GLIBC_2.35' not found". The references come from the Swift runtime's static libraries,
// which cannot be rebuilt here. Defining both functions in the executable resolves those references
// at link time; each calls the version every glibc since the architecture's first still exports,
// so `bootstrap` needs no symbol newer than GLIBC_2.34 wherever it was built (scripts/package
// checks this).
#if defined(__linux__)
#include <features.h>  // defines __GLIBC__
#endif
#if defined(__linux__) && defined(__GLIBC__)

#if defined(__x86_64__)
#define GLIBC_BASELINE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define GLIBC_BASELINE "GLIBC_2.17"
#endif

#ifdef GLIBC_BASELINE
double baseline_hypot(double x, double y);
float baseline_hypotf(float x, float y);
__asm__(".symver baseline_hypot, hypot@" GLIBC_BASELINE);
__asm__(".symver baseline_hypotf, hypotf@" GLIBC_BASELINE);

double hypot(double x, double y) { return baseline_hypot(x, y); }
float hypotf(float x, float y) { return baseline_hypotf(x, y); }
#endif

#endif
