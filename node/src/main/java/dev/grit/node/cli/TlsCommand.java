package dev.grit.node.cli;

import dev.grit.consensus.tls.TlsInit;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code grit tls ...}: the cluster's certificates. */
@Command(
    name = "tls",
    description = "Make the cluster's CA and member certificates.",
    mixinStandardHelpOptions = true,
    subcommands = {TlsCommand.Init.class})
final class TlsCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    new CommandLine(this).usage(System.err);
    return Main.USAGE;
  }

  /**
   * {@code grit tls init DIR --nodes N --dns PATTERN}: a CA (or the one already in DIR) and a
   * certificate per member, as {@code nomad tls ca create} and {@code consul tls cert create} do.
   */
  @Command(
      name = "init",
      description = {
        "Make a CA in DIR (or use the one there) and a certificate and key per member in"
            + " DIR/nodes.",
        "DIR/ca.key signs certificates: keep it off the nodes. DIR/nodes is what a node's --tls",
        "directory (a Kubernetes Secret) holds; DIR/ca.crt is what clients pass as --cacert.",
        "Run it again with the same DIR to issue fresh certificates from the same CA (rotation).",
        "Example: grit tls init ./grit-tls --nodes 3 --dns '*.grit-headless.grit.svc.cluster.local'"
      },
      mixinStandardHelpOptions = true)
  static final class Init implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "Where the CA and certificates go.")
    Path dir;

    @Option(
        names = "--nodes",
        paramLabel = "N",
        description =
            "Issue certificates for N members named PREFIX0 .. PREFIX(N-1), the pod names of a"
                + " StatefulSet.")
    Integer nodes;

    @Option(
        names = "--prefix",
        paramLabel = "PREFIX",
        description = "Member names with --nodes (default: grit-).")
    String prefix = "grit-";

    @Option(
        names = "--ids",
        split = ",",
        paramLabel = "ID[,ID...]",
        description = "Issue certificates for these member ids instead.")
    List<String> ids = new ArrayList<>();

    @Option(
        names = "--dns",
        paramLabel = "NAME",
        description = {
          "A DNS name peers and clients reach members by (repeatable). {id} stands for the"
              + " member's",
          "id; a wildcard like '*.grit-headless.NS.svc.cluster.local' is kept as it is.",
          "localhost and 127.0.0.1 are always added."
        })
    List<String> dns = new ArrayList<>();

    @Option(
        names = "--ip",
        paramLabel = "ADDRESS",
        description = "An IP address of the members (repeatable).")
    List<String> ips = new ArrayList<>();

    @Option(
        names = "--days",
        paramLabel = "DAYS",
        description = "How long member certificates are valid (default: 365).")
    long days = 365;

    @Option(
        names = "--ca-days",
        paramLabel = "DAYS",
        description = "How long a new CA is valid (default: 3650).")
    long caDays = 3650;

    @Option(
        names = "--cluster",
        paramLabel = "NAME",
        description = "Cluster name in the CA's subject (default: grit).")
    String cluster = "grit";

    @Override
    public Integer call() throws Exception {
      var members = new ArrayList<>(ids);
      if (nodes != null) {
        if (nodes < 1) {
          throw new ClientException(Main.USAGE, "--nodes must be at least 1");
        }
        for (int i = 0; i < nodes; i++) {
          members.add(prefix + i);
        }
      }
      if (members.isEmpty()) {
        throw new ClientException(Main.USAGE, "name the members: --nodes N or --ids ID,...");
      }
      if (days < 1 || caDays < 1) {
        throw new ClientException(Main.USAGE, "--days and --ca-days must be at least 1");
      }
      TlsInit.Result result;
      try {
        result =
            new TlsInit(cluster, members, dns, ips, Duration.ofDays(days), Duration.ofDays(caDays))
                .run(dir, Instant.now());
      } catch (IllegalArgumentException e) {
        throw new ClientException(Main.USAGE, e.getMessage());
      }
      var err = System.err;
      if (result.newCa()) {
        err.printf(
            "grit: made a CA: %s, and its key %s (keep the key off the nodes)%n",
            dir.resolve("ca.crt"), dir.resolve("ca.key"));
      } else {
        err.printf("grit: using the CA in %s%n", dir.resolve("ca.crt"));
      }
      for (var issued : result.issued()) {
        err.printf(
            "grit: %s/%s.crt and .key, valid until %s%n",
            result.nodesDir(), issued.id(), issued.certificate().getNotAfter().toInstant());
      }
      err.printf(
          "grit: nodes take --tls %s (add tokens: grit token new --role admin --append"
              + " %s/tokens)%n",
          result.nodesDir(), result.nodesDir());
      err.printf("grit: clients take --cacert %s%n", dir.resolve("ca.crt"));
      return Main.OK;
    }
  }
}
