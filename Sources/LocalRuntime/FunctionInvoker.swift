import Handlers

/// Runs a template function on an event: in-process (`LocalFunctions`) or in a real `bootstrap`
/// process through the Runtime API. The stage, `invoke` and `replay` only see this protocol, so the
/// same events can be checked against both.
protocol FunctionInvoker: Sendable {
    func invoke(_ function: Template.Function, payload: [UInt8], requestId: String) async throws -> [UInt8]
}

extension LocalFunctions: FunctionInvoker {}
