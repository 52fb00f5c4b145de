import NIOCore

/// Runs a task's jobs on one NIO event loop: the stage gives each connection's task its channel's
/// loop as preferred executor, so that reading a frame, invoking the function in-process and writing
/// the reply happen on the thread that owns the socket.
///
/// On Swift's global executor every message crossed threads twice — the loop woke a pool thread to
/// consume the frame, and the pool thread woke the loop to write the reply — and the wake-ups and
/// context switches were a tenth of the stage's CPU. On the loop, a message costs 8% less CPU and the
/// stage answers 15% more messages a second (BENCHMARKS.md, round 9). The price: what a function does
/// runs on the loop too, so a store write waiting for another process's lock (an admin command, a
/// `bootstrap` sharing the state file) holds up that loop's connections for as long, where it held
/// one of the global executor's threads — of which two cores have two.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
