/*
 * Parses a Structurizr DSL workspace with the Structurizr DSL parser and writes, into OUT_DIR:
 *   workspace.json   the parsed model and views (Structurizr's JSON format; the drift test reads it)
 *   views/KEY.mmd    every view exported to Mermaid by structurizr-export
 *   index.html       TEMPLATE with the views (key, type, title, Mermaid definition) filled in
 * Compiled and run by scripts/c4/structurizr.sh:
 *   java -cp 'CLASSES:LIBS/*' C4Export WORKSPACE.dsl OUT_DIR TEMPLATE.html
 */
import com.fasterxml.jackson.databind.ObjectMapper;
import com.structurizr.Workspace;
import com.structurizr.dsl.StructurizrDslParser;
import com.structurizr.export.Diagram;
import com.structurizr.export.mermaid.MermaidDiagramExporter;
import com.structurizr.util.WorkspaceUtils;
import com.structurizr.view.View;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class C4Export {
    /** Where the template takes the views' JSON. */
    private static final String VIEWS_PLACEHOLDER = "/*C4_VIEWS*/";

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: C4Export WORKSPACE.dsl OUT_DIR TEMPLATE.html");
            System.exit(2);
        }
        File dsl = new File(args[0]);
        Path out = Path.of(args[1]);
        String template = Files.readString(Path.of(args[2]), StandardCharsets.UTF_8);
        if (!template.contains(VIEWS_PLACEHOLDER)) throw new IllegalArgumentException(args[2] + " has no " + VIEWS_PLACEHOLDER);

        StructurizrDslParser parser = new StructurizrDslParser();
        parser.parse(dsl);
        Workspace workspace = parser.getWorkspace();

        Files.createDirectories(out.resolve("views"));
        Files.writeString(out.resolve("workspace.json"), WorkspaceUtils.toJson(workspace, true), StandardCharsets.UTF_8);

        List<Map<String, String>> views = new ArrayList<>();
        for (Diagram diagram : new MermaidDiagramExporter().export(workspace)) {
            View view = diagram.getView();
            Files.writeString(out.resolve("views").resolve(diagram.getKey() + ".mmd"), diagram.getDefinition(), StandardCharsets.UTF_8);
            Map<String, String> entry = new LinkedHashMap<>();
            entry.put("key", diagram.getKey());
            entry.put("type", view.getClass().getSimpleName());
            entry.put("title", view.getTitle() != null && !view.getTitle().isBlank() ? view.getTitle() : view.getName());
            entry.put("description", view.getDescription() == null ? "" : view.getDescription());
            entry.put("mermaid", diagram.getDefinition());
            views.add(entry);
        }
        // "<" escaped so that no view text can close the <script> element holding the JSON.
        String viewsJson = new ObjectMapper().writeValueAsString(views).replace("<", "\\u003c");
        Files.writeString(out.resolve("index.html"), template.replace(VIEWS_PLACEHOLDER, viewsJson), StandardCharsets.UTF_8);
        System.out.println(views.size() + " views exported to " + out.toAbsolutePath());
    }
}
