// Why a forwarded call did not get the peer's answer, in terms a client can act
// on. /mcp turns each kind into an MCP error or an isError result (per the
// spec: an unknown or refused request is a protocol error, a tool that could
// not run is a tool result); GraphQL into a typed union member. Messages name
// the gateway and the reason, never our internals nor a credential.
import { ErrorCode, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { classifyError, type PeerFailureReason } from '../federation/peer-errors.js';

export type ForwardErrorKind =
  | 'UNKNOWN_ENTRY'
  | 'ENTRY_DISABLED'
  | 'GATEWAY_DISABLED'
  | 'GATEWAY_UNREACHABLE'
  | 'TOO_MANY_HOPS'
  | 'PEER_TIMEOUT'
  | 'PEER_FAILED'
  | 'PEER_ERROR';

/** JSON-RPC "resource not found" (MCP spec, resources). */
const RESOURCE_NOT_FOUND = -32002;

export class ForwardError extends Error {
  override name = 'ForwardError';
  readonly peerCode?: number;
  readonly peerData?: unknown;
  readonly reason?: PeerFailureReason;

  constructor(
    readonly kind: ForwardErrorKind,
    message: string,
    details: { peerCode?: number; peerData?: unknown; reason?: PeerFailureReason } = {},
  ) {
    super(message);
    this.peerCode = details.peerCode;
    this.peerData = details.peerData;
    this.reason = details.reason;
  }

  /** A failure to get any answer from the peer (classified, credentials already redacted by the session). */
  static fromPeer(error: unknown, gatewayName: string, timeoutMs: number): ForwardError {
    const failure = classifyError(error);
    if (failure.reason === 'TIMEOUT') return new ForwardError('PEER_TIMEOUT', `gateway ${gatewayName} did not answer within ${timeoutMs} ms`, { reason: 'TIMEOUT' });
    return new ForwardError('PEER_FAILED', `gateway ${gatewayName} failed (${failure.reason}): ${failure.message}`, { reason: failure.reason });
  }

  /** As /mcp answers a tools/call: the tool could not run, so the model sees why. */
  toToolResult(): CallToolResult {
    return { isError: true, content: [{ type: 'text', text: this.message }] };
  }

  /**
   * As /mcp answers any other request: an Error with the JSON-RPC code the
   * SDK sends as is (an McpError would put "MCP error <code>:" into the
   * message, which the client's McpError then repeats).
   */
  toRpcError(method: string): Error & { code: number; data?: unknown } {
    const error = (code: number, data?: unknown) => Object.assign(new Error(this.message), { code, ...(data !== undefined ? { data } : {}) });
    switch (this.kind) {
      case 'PEER_ERROR':
        return error(this.peerCode ?? ErrorCode.InternalError, this.peerData);
      case 'UNKNOWN_ENTRY':
        return error(method === 'resources/read' ? RESOURCE_NOT_FOUND : ErrorCode.InvalidParams);
      case 'ENTRY_DISABLED':
        return error(ErrorCode.InvalidParams);
      case 'TOO_MANY_HOPS':
        return error(ErrorCode.InvalidRequest);
      case 'PEER_TIMEOUT':
        return error(ErrorCode.RequestTimeout);
      default:
        return error(ErrorCode.InternalError);
    }
  }
}
