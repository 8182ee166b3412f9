package dev.grit.discovery;

import java.util.Map;
import java.util.Optional;
import javax.jmdns.ServiceInfo;

/**
 * What a node advertises over mDNS and how a peer's advertisement is read back. The TXT record
 * carries everything, so neither the instance name nor the SRV target has to mean anything.
 */
final class MdnsRecord {
  static final String ID = "id";
  static final String CLUSTER = "cluster";
  static final String HOST = "host";
  static final String RAFT_PORT = "raft";

  private static final int MAX_INSTANCE_NAME = 63;

  private MdnsRecord() {}

  /** The TXT properties that describe {@code self} as a member of {@code cluster}. */
  static Map<String, String> properties(String cluster, PeerAddress self) {
    return Map.of(
        ID, self.id(), CLUSTER, cluster, HOST, self.host(), RAFT_PORT, Integer.toString(self.port()));
  }

  /**
   * A service instance name for the node: it only has to be unique on the link, and when it is
   * not, jmdns renames the service, so shortening it (DNS labels stop at 63 bytes) is harmless.
   * Dots are replaced because jmdns splits qualified names on them.
   */
  static String instanceName(String cluster, String id) {
    String name = (cluster + "-" + id).replace('.', '-');
    return name.length() <= MAX_INSTANCE_NAME ? name : name.substring(0, MAX_INSTANCE_NAME);
  }

  /** Whether the TXT properties have arrived; jmdns may report a service before they do. */
  static boolean complete(ServiceInfo info) {
    return info != null
        && info.getPropertyString(ID) != null
        && info.getPropertyString(CLUSTER) != null
        && info.getPropertyString(HOST) != null
        && info.getPropertyString(RAFT_PORT) != null;
  }

  /**
   * The member a complete advertisement describes; empty when it belongs to another cluster.
   *
   * @throws IllegalArgumentException when the advertisement is not a valid member
   */
  static Optional<PeerAddress> peer(ServiceInfo info, String cluster) {
    if (!cluster.equals(info.getPropertyString(CLUSTER))) {
      return Optional.empty();
    }
    int port;
    try {
      port = Integer.parseInt(info.getPropertyString(RAFT_PORT));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("raft port " + info.getPropertyString(RAFT_PORT) + " is not a number");
    }
    return Optional.of(new PeerAddress(info.getPropertyString(ID), info.getPropertyString(HOST), port));
  }
}
