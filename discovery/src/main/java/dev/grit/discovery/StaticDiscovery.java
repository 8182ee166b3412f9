package dev.grit.discovery;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.function.Consumer;

/** Peers from a fixed list: {@code --peers n1=10.0.0.1:9870,n2=10.0.0.2:9870,n3=...}. */
public final class StaticDiscovery implements PeerDiscovery {
  private final List<PeerAddress> peers;

  public StaticDiscovery(List<PeerAddress> peers) {
    this.peers = peers.stream().sorted(Comparator.comparing(PeerAddress::id)).toList();
  }

  /** Parses {@code id=host:port,...}; a malformed or repeated entry is an IllegalArgumentException. */
  public static StaticDiscovery parse(String spec) {
    var peers = new ArrayList<PeerAddress>();
    var ids = new HashSet<String>();
    for (String entry : spec.split(",")) {
      String e = entry.strip();
      int eq = e.indexOf('=');
      int colon = e.lastIndexOf(':');
      if (eq <= 0 || colon < eq + 2 || colon == e.length() - 1) {
        throw new IllegalArgumentException("peer \"" + e + "\" is not id=host:port");
      }
      int port;
      try {
        port = Integer.parseInt(e.substring(colon + 1));
      } catch (NumberFormatException x) {
        throw new IllegalArgumentException("peer \"" + e + "\" has no numeric port");
      }
      var peer = new PeerAddress(e.substring(0, eq), e.substring(eq + 1, colon), port);
      if (!ids.add(peer.id())) {
        throw new IllegalArgumentException("peer id " + peer.id() + " appears twice");
      }
      peers.add(peer);
    }
    return new StaticDiscovery(peers);
  }

  @Override
  public List<PeerAddress> await(int expected, Duration limit) throws DiscoveryException {
    if (peers.size() < expected) {
      throw new DiscoveryException(
          "the static peer list has " + peers.size() + " members, " + expected + " expected");
    }
    return peers;
  }

  @Override
  public List<PeerAddress> current() {
    return peers;
  }

  /** A fixed list never changes, so {@code listener} is never called. */
  @Override
  public void onChange(Consumer<List<PeerAddress>> listener) {}
}
