package dev.grit.consensus.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code grit tls init DIR} does: makes the cluster's CA in {@code DIR} (or uses the one that
 * is there, so that running it again issues fresh member certificates from the same CA: that is how
 * certificates are rotated) and a certificate per member in {@code DIR/nodes}.
 *
 * <pre>
 * DIR/ca.crt, DIR/ca.key        the CA; its key signs certificates and never goes to a node
 * DIR/nodes/ca.crt              what a member trusts
 * DIR/nodes/ID.crt, ID.key      member ID's certificate and key
 * </pre>
 *
 * {@code DIR/nodes} is what a member's {@code --tls} directory (a Kubernetes Secret) holds.
 *
 * @param clusterName named in the CA's subject
 * @param ids the members to issue certificates for
 * @param dnsPatterns DNS names for every member; {@code {id}} stands for the member's id, and a
 *     wildcard such as {@code *.grit-headless.NS.svc.cluster.local} is kept as it is
 * @param ips IP addresses for every member (localhost and 127.0.0.1 are always added)
 * @param validity how long member certificates are valid (never beyond the CA)
 * @param caValidity how long a new CA is valid
 */
public record TlsInit(
    String clusterName,
    List<String> ids,
    List<String> dnsPatterns,
    List<String> ips,
    Duration validity,
    Duration caValidity) {

  public static final String NODES = "nodes";

  /** Certificates start this long before they are made, for clocks a little behind. */
  static final Duration SKEW = Duration.ofMinutes(5);

  public TlsInit {
    ids = List.copyOf(ids);
    dnsPatterns = List.copyOf(dnsPatterns);
    ips = List.copyOf(ips);
    if (ids.isEmpty()) {
      throw new IllegalArgumentException("no members to issue certificates for");
    }
    if (validity.isNegative()
        || validity.isZero()
        || caValidity.isNegative()
        || caValidity.isZero()) {
      throw new IllegalArgumentException("validity must be positive");
    }
  }

  /** What was made. */
  public record Result(boolean newCa, ClusterCa ca, Path nodesDir, List<ClusterCa.Issued> issued) {}

  /**
   * Makes (or reuses) the CA in {@code dir} and issues every member's certificate at {@code now}.
   */
  public Result run(Path dir, Instant now) throws IOException {
    boolean newCa = !ClusterCa.existsIn(dir);
    if (!newCa
        && Files.exists(dir.resolve(ClusterCa.CA_KEY))
            != Files.exists(dir.resolve(ClusterCa.CA_CERT))) {
      throw new IOException(dir + " holds only half a CA (ca.crt and ca.key go together)");
    }
    ClusterCa ca;
    if (newCa) {
      ca = ClusterCa.create(clusterName, now.minus(SKEW), caValidity);
      ca.write(dir);
    } else {
      ca = ClusterCa.load(dir);
    }
    Path nodes = dir.resolve(NODES);
    ca.writeCertificate(nodes);
    var issued = new ArrayList<ClusterCa.Issued>();
    for (String id : ids) {
      var names = dnsPatterns.stream().map(p -> p.replace("{id}", id)).toList();
      ClusterCa.Issued member = ca.issue(id, names, ips, now.minus(SKEW), validity);
      member.write(nodes);
      issued.add(member);
    }
    return new Result(newCa, ca, nodes, List.copyOf(issued));
  }
}
