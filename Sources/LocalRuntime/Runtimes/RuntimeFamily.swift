/// The Lambda runtimes local-runtime can start, by the template's `Runtime` identifier.
enum RuntimeFamily: Sendable, Equatable {
    /// `provided.al2023`, `provided.al2`, `provided`: an executable `bootstrap` in the code.
    case provided
    /// `python3.x`: the Runtime Interface Client `awslambdaric`.
    case python
    /// `nodejs*`: the Runtime API client shipped with local-runtime.
    case node

    init?(_ runtime: String) {
        if runtime.hasPrefix("provided") {
            self = .provided
        } else if runtime.hasPrefix("python3") {
            self = .python
        } else if runtime.hasPrefix("nodejs") {
            self = .node
        } else {
            return nil
        }
    }
}
