package dev.grit.node.cli;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The options of client commands that say which server to ask and how: {@code --server
 * URL[,URL...]} (default: {@code $GRIT_ADDR}), {@code --token} (default: {@code $GRIT_TOKEN}) and
 * {@code --cacert} (default: {@code $GRIT_CACERT}); each falls back on the {@link ClientConfig}
 * file.
 */
final class ServerOption {
  static final String ENV = "GRIT_ADDR";
  static final String TOKEN_ENV = "GRIT_TOKEN";
  static final String CACERT_ENV = "GRIT_CACERT";

  @Option(
      names = "--server",
      paramLabel = "URL[,URL...]",
      defaultValue = "${env:" + ENV + "}",
      description =
          "API of a grit node (default: $"
              + ENV
              + "); with a comma-separated list, each is tried"
              + " in order until one answers. host:port means https://host:port.")
  String server;

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      defaultValue = "${env:" + TOKEN_ENV + "}",
      description =
          "API token (default: $" + TOKEN_ENV + "; prefer it, or the config file, to the option).")
  String token;

  @Option(
      names = "--cacert",
      paramLabel = "FILE",
      defaultValue = "${env:" + CACERT_ENV + "}",
      description =
          "The cluster's CA certificate, which the server's must be signed by (default: $"
              + CACERT_ENV
              + "; without it, the system's CAs).")
  Path cacert;

  private ClientConfig config;

  private ClientConfig config() throws ClientException {
    if (config == null) {
      config = ClientConfig.load();
    }
    return config;
  }

  private String serverText() {
    if (server != null && !server.isBlank()) {
      return server;
    }
    try {
      return config().server();
    } catch (ClientException e) {
      return null;
    }
  }

  /** Whether a server was named, by the option, the environment or the config file. */
  boolean given() {
    String s = serverText();
    return s != null && !s.isBlank();
  }

  /**
   * Whether the command should use the server rather than a local data directory: a server was
   * named and {@code --db} was not given explicitly.
   */
  boolean remote(CommandSpec spec) {
    return given() && !spec.commandLine().getParseResult().hasMatchedOption("--db");
  }

  ApiClient client() throws ClientException {
    return client(servers());
  }

  /** A client of {@code servers} with this command's credentials. */
  ApiClient client(List<URI> servers) throws ClientException {
    String t = token != null && !token.isBlank() ? token.strip() : config().token();
    Path ca = cacert != null ? cacert : config().cacert();
    return new ApiClient(servers, t, ca);
  }

  /** The servers named, in order; a usage error when none is. */
  List<URI> servers() throws ClientException {
    config(); // a broken config file is reported as such
    if (!given()) {
      throw new ClientException(
          Main.USAGE,
          "no server: pass --server URL or set " + ENV + " (e.g. https://127.0.0.1:9871)");
    }
    return parse(serverText());
  }

  /** {@code host:port} and {@code https://host:port/} alike become {@code https://host:port}. */
  static List<URI> parse(String list) throws ClientException {
    var out = new ArrayList<URI>();
    for (String raw : list.split(",")) {
      String s = raw.trim();
      if (s.isEmpty()) {
        continue;
      }
      if (!s.contains("://")) {
        s = "https://" + s;
      }
      while (s.endsWith("/")) {
        s = s.substring(0, s.length() - 1);
      }
      try {
        URI uri = URI.create(s);
        if (uri.getHost() == null
            || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
          throw new IllegalArgumentException(
              "needs https://host:port (or http:// for a node without TLS)");
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
