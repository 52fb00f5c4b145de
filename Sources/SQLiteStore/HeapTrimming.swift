import CSQLite

extension SQLiteStore {
    /// Stops glibc from handing freed heap memory back to the kernel after every large free; for the
    /// executables that keep a store open, called once at start.
    ///
    /// A write transaction has SQLite allocate and free its dirty pages and statement journals, enough
    /// to lift the top of a thread's heap past glibc's trim threshold (128 KB) and let it fall back: each
    /// fall was an `madvise` with a TLB shootdown of the other core, and each rise page faults on fresh
    /// zeroed pages (together 15–20% of the stage's CPU under load). A fixed threshold of 32 MB keeps
    /// that memory for the next transaction. Fixing it also fixes the mmap threshold, which glibc would
    /// otherwise raise as large blocks are freed, so it is set to 4 MB: blocks below that (SQLite's
    /// page cache, NIO's buffers) come from the heap and are reused, not mapped and unmapped each time.
    public static func keepFreedHeapMemory() {
        #if canImport(Glibc) && !os(Android)
        mallopt(M_MMAP_THRESHOLD, 4 << 20)
        mallopt(M_TRIM_THRESHOLD, 32 << 20)
        #endif
    }
}
