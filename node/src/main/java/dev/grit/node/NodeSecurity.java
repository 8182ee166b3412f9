package dev.grit.node;

import dev.grit.consensus.tls.MemberTls;
import dev.grit.node.auth.Tokens;

/**
 * What a node proves and what it checks.
 *
 * @param tls the member's certificate and key and the cluster CA it trusts, for mutual TLS on the
 *     Raft port, HTTPS on the API and chunk fetches from peers; null for plain text (a node
 *     confined to loopback, or one started {@code --insecure})
 * @param tokens the API's bearer tokens (their hashes); null for an API open to whoever reaches it
 */
public record NodeSecurity(MemberTls tls, Tokens tokens) {
  /** Plain text and an open API: the embedded node, which listens on loopback only. */
  public static final NodeSecurity NONE = new NodeSecurity(null, null);
}
