package dev.grit.node.cli;

import dev.grit.node.auth.Role;
import dev.grit.node.auth.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code grit token ...}: the API's bearer tokens. */
@Command(
    name = "token",
    description = "Make API tokens.",
    mixinStandardHelpOptions = true,
    subcommands = {TokenCommand.New.class})
final class TokenCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    new CommandLine(this).usage(System.err);
    return Main.USAGE;
  }

  /** {@code grit token new --role ROLE}: a token for a client and the line a node stores. */
  @Command(
      name = "new",
      description = {
        "Print a new API token (line 1: give it to the client; it is shown only once) and the",
        "line the nodes' tokens file stores for it (line 2: its SHA-256 and role). With --append,",
        "line 2 goes into FILE instead and only the token is printed.",
        "Roles: read (GET of runs, tasks, logs, resources, objects, cluster, metrics),",
        "submit (read, and runs and cancel), admin (submit, and membership changes)."
      },
      mixinStandardHelpOptions = true)
  static final class New implements Callable<Integer> {
    @Option(
        names = "--role",
        required = true,
        paramLabel = "read|submit|admin",
        description = "What the token may do.")
    String role;

    @Option(
        names = "--name",
        paramLabel = "NAME",
        description = "A label kept beside the hash (who holds it).")
    String name;

    @Option(
        names = "--append",
        paramLabel = "FILE",
        description = "Add the hash line to this tokens file (made owner-only).")
    Path append;

    @Override
    public Integer call() throws Exception {
      Role parsed;
      try {
        parsed = Role.parse(role);
      } catch (IllegalArgumentException e) {
        throw new ClientException(Main.USAGE, "--role: " + e.getMessage());
      }
      if (name != null && !name.matches("[A-Za-z0-9._@-]{1,64}")) {
        throw new ClientException(Main.USAGE, "--name: 1-64 letters, digits, '.', '_', '@' or '-'");
      }
      String token = Tokens.newToken();
      String line = Tokens.line(token, parsed, name);
      if (append != null) {
        appendLine(append, line);
        System.out.println(token);
        System.err.printf("grit: its hash (role %s) was added to %s%n", parsed.spelling(), append);
      } else {
        System.out.println(token);
        System.out.println(line);
        System.err.println(
            "grit: line 1 is the token (for --token or GRIT_TOKEN; shown only once), line 2 goes"
                + " into the nodes' tokens file");
      }
      return Main.OK;
    }

    private static void appendLine(Path file, String line) throws IOException {
      if (!Files.exists(file)) {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.createFile(
            file,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      }
      String existing = Files.readString(file, StandardCharsets.UTF_8);
      String prefix = existing.isEmpty() || existing.endsWith("\n") ? "" : "\n";
      Files.writeString(
          file, prefix + line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }
  }
}
