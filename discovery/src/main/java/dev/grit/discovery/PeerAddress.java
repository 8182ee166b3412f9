package dev.grit.discovery;

/**
 * A member of the cluster: its stable id (never an address) and where its Raft server listens.
 */
public record PeerAddress(String id, String host, int port) {
  public PeerAddress {
    if (id == null || !id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
      throw new IllegalArgumentException(
          "peer id " + id + " must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("peer " + id + " has no host");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("peer " + id + " has port " + port + ", not 1-65535");
    }
  }

  @Override
  public String toString() {
    return id + "=" + host + ":" + port;
  }
}
