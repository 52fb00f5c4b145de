import Foundation

/// The files under some roots with their modification times and sizes, to tell what changed
/// between two looks. Polling keeps it portable (no inotify or FSEvents), and each look is bounded:
/// folders of dependencies and build output are skipped, and at most `maxFiles` files are read.
struct SourceSnapshot: Sendable, Equatable {
    /// What `stat` says of a file: modification time to the nanosecond (two saves within one
    /// second differ), size, and inode (editors that save by renaming a new file over the old).
    struct Stamp: Sendable, Equatable {
        var seconds: Int
        var nanoseconds: Int
        var size: Int
        var inode: UInt64
    }

    var files: [String: Stamp]

    static let maxFiles = 20_000
    /// Folders that change without the functions' code changing, or that are too large to poll.
    static let skipped: Set<String> = [".build", ".git", "node_modules", "__pycache__", ".local-runtime", ".aws-sam", ".venv", ".pytest_cache"]

    init(files: [String: Stamp]) {
        self.files = files
    }

    /// Looks at every file under `roots` (folders or single files).
    init(roots: [String]) {
        var files: [String: Stamp] = [:]
        let manager = FileManager.default
        func stamp(_ path: String) {
            var status = stat()
            guard files.count < Self.maxFiles, stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return }
            files[path] = Stamp(seconds: Int(status.st_mtim.tv_sec), nanoseconds: Int(status.st_mtim.tv_nsec), size: Int(status.st_size),
                                inode: UInt64(status.st_ino))
        }
        for root in roots {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: root, isDirectory: &isDirectory) else { continue }
            guard isDirectory.boolValue else {
                stamp(root)
                continue
            }
            guard let enumerator = manager.enumerator(atPath: root) else { continue }
            while let relative = enumerator.nextObject() as? String, files.count < Self.maxFiles {
                let name = (relative as NSString).lastPathComponent
                if Self.skipped.contains(name) {
                    enumerator.skipDescendants()
                    continue
                }
                stamp((root as NSString).appendingPathComponent(relative))
            }
        }
        self.files = files
    }

    /// Files added, removed or changed since `earlier`, sorted.
    func changes(since earlier: SourceSnapshot) -> [String] {
        Set(files.keys).union(earlier.files.keys).filter { files[$0] != earlier.files[$0] }.sorted()
    }
}
