package dev.grit.node.cli;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** The {@code --server URL[,URL...]} option (default: {@code $GRIT_ADDR}) of client commands. */
final class ServerOption {
  static final String ENV = "GRIT_ADDR";

  @Option(
      names = "--server",
      paramLabel = "URL[,URL...]",
      defaultValue = "${env:" + ENV + "}",
      description =
          "API of a grit node (default: $"
              + ENV
              + "); with a comma-separated list, each is tried"
              + " in order until one answers.")
  String server;

  /** Whether a server was named, by the option or the environment. */
  boolean given() {
    return server != null && !server.isBlank();
  }

  /**
   * Whether the command should use the server rather than a local data directory: a server was
   * named and {@code --db} was not given explicitly.
   */
  boolean remote(CommandSpec spec) {
    return given() && !spec.commandLine().getParseResult().hasMatchedOption("--db");
  }

  ApiClient client() throws ClientException {
    return new ApiClient(servers());
  }

  /** The servers named, in order; a usage error when none is. */
  List<URI> servers() throws ClientException {
    if (!given()) {
      throw new ClientException(
          Main.USAGE,
          "no server: pass --server URL or set " + ENV + " (e.g. http://127.0.0.1:9871)");
    }
    return parse(server);
  }

  /** {@code host:port} and {@code http://host:port/} alike become {@code http://host:port}. */
  static List<URI> parse(String list) throws ClientException {
    var out = new ArrayList<URI>();
    for (String raw : list.split(",")) {
      String s = raw.trim();
      if (s.isEmpty()) {
        continue;
      }
      if (!s.contains("://")) {
        s = "http://" + s;
      }
      while (s.endsWith("/")) {
        s = s.substring(0, s.length() - 1);
      }
      try {
        URI uri = URI.create(s);
        if (uri.getHost() == null
            || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
          throw new IllegalArgumentException("needs http://host:port");
        }
        out.add(uri);
      } catch (IllegalArgumentException e) {
        throw new ClientException(Main.USAGE, "--server " + raw.trim() + ": " + e.getMessage());
      }
    }
    if (out.isEmpty()) {
      throw new ClientException(Main.USAGE, "--server names no server");
    }
    return out;
  }
}
