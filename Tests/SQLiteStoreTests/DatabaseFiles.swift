import Foundation

/// Scratch database files for tests: a fresh path, and its removal together with the WAL and
/// shared-memory files SQLite keeps beside it.
enum DatabaseFiles {
    static func temporaryPath(_ prefix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID()).sqlite").path
    }

    static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
