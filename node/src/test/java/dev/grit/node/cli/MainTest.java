package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

class MainTest {
  @Test
  void everySubcommandIsBuiltUnderTheNameItsClassDeclares() {
    for (String name : Main.SUBCOMMANDS) {
      Command command = Main.subcommand(name).getClass().getAnnotation(Command.class);
      assertEquals(name, command.name());
    }
  }

  @Test
  void aNamedSubcommandIsTheOnlyOneBuilt() {
    var cli = Main.commandLine(new String[] {"lint", "workflow.toml"});
    assertEquals(List.of("lint"), List.copyOf(cli.getSubcommands().keySet()));
  }

  @Test
  void usageAndUnknownNamesGetEverySubcommand() {
    for (String[] args : List.of(new String[0], new String[] {"--help"}, new String[] {"runn"})) {
      var cli = Main.commandLine(args);
      assertEquals(Main.SUBCOMMANDS, List.copyOf(cli.getSubcommands().keySet()));
    }
  }
}
