import NIOCore
import NIOPosix
import Testing
@testable import LocalRuntime

/// The stage runs each connection's task on its channel's event loop.
@Suite("Event loop task executor")
struct EventLoopTaskExecutorTests {
    @Test("a task preferring the executor, its child tasks, and what follows an await all run on the loop")
    func runsOnTheLoop() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let onLoop = await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
            var seen = [loop.inEventLoop]
            try? await Task.sleep(for: .milliseconds(1))
            seen.append(loop.inEventLoop)
            seen += await withTaskGroup(of: Bool.self) { children in
                for _ in 0..<4 { children.addTask { loop.inEventLoop } }
                return await children.reduce(into: []) { $0.append($1) }
            }
            return seen
        }
        #expect(onLoop == Array(repeating: true, count: 6))
        #expect(!loop.inEventLoop)
    }
}
