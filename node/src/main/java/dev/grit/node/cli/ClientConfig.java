package dev.grit.node.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tomlj.Toml;
import org.tomlj.TomlParseResult;

/**
 * The client's config file, for what would otherwise be typed each time: {@code $GRIT_CONFIG}, or
 * {@code ~/.config/grit/client.toml} when it exists. Keys: {@code server} (as --server), {@code
 * token} (as --token; keep the file private), {@code cacert} (as --cacert; relative to the file).
 * Options and environment variables win over it.
 */
record ClientConfig(String server, String token, Path cacert) {
  static final String ENV = "GRIT_CONFIG";
  static final ClientConfig NONE = new ClientConfig(null, null, null);

  /** The config file in effect, or {@link #NONE}. */
  static ClientConfig load() throws ClientException {
    String named = System.getenv(ENV);
    Path file;
    if (named != null && !named.isBlank()) {
      file = Path.of(named);
      if (!Files.isRegularFile(file)) {
        throw new ClientException(Main.USAGE, ENV + "=" + named + ": no such file");
      }
    } else {
      String home = System.getProperty("user.home");
      file = home == null ? null : Path.of(home, ".config", "grit", "client.toml");
      if (file == null || !Files.isRegularFile(file)) {
        return NONE;
      }
    }
    TomlParseResult toml;
    try {
      toml = Toml.parse(file);
    } catch (IOException e) {
      throw new ClientException(Main.USAGE, "cannot read " + file + ": " + e.getMessage());
    }
    if (toml.hasErrors()) {
      var first = toml.errors().get(0);
      throw new ClientException(
          Main.USAGE, file + ":" + first.position().line() + ": " + first.getMessage());
    }
    for (String key : toml.keySet()) {
      if (!key.equals("server") && !key.equals("token") && !key.equals("cacert")) {
        throw new ClientException(
            Main.USAGE,
            file
                + ":"
                + toml.inputPositionOf(key).line()
                + ": unknown key '"
                + key
                + "' (server, token, cacert)");
      }
    }
    String cacert = string(toml, "cacert", file);
    Path dir = file.toAbsolutePath().getParent();
    return new ClientConfig(
        string(toml, "server", file),
        string(toml, "token", file),
        cacert == null ? null : dir.resolve(cacert));
  }

  private static String string(TomlParseResult toml, String key, Path file) throws ClientException {
    if (!toml.contains(key)) {
      return null;
    }
    if (!toml.isString(key)) {
      throw new ClientException(
          Main.USAGE,
          file + ":" + toml.inputPositionOf(key).line() + ": " + key + " must be a string");
    }
    return toml.getString(key);
  }
}
