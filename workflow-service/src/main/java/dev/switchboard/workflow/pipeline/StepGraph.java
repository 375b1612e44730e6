package dev.switchboard.workflow.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The steps of a pipeline as a graph: each step depends on the steps whose output it reads (its
 * {@code input}, an aggregate's {@code inputs}, a prompt template's {@code steps.<id>.output}) and
 * a fanout's members on the fanout. Checked on save: every reference names a step, fanout members
 * are model steps that get their input from exactly that fanout, and there is no cycle. Order in
 * the list does not matter; the graph decides what runs when.
 */
public final class StepGraph {

    private StepGraph() {
    }

    /**
     * What each step of a checked definition waits for: the steps whose output it reads, and for a
     * fanout's member, the fanout. In the order the steps were written.
     */
    public static Map<String, Set<String>> dependencies(List<Step> steps) {
        Map<String, String> fanoutOf = new HashMap<>();
        steps.stream().filter(Step.Fanout.class::isInstance).map(Step.Fanout.class::cast)
                .forEach(fanout -> fanout.steps().forEach(member -> fanoutOf.put(member, fanout.id())));
        Map<String, Set<String>> dependencies = new LinkedHashMap<>();
        for (Step step : steps) {
            Set<String> needs = new LinkedHashSet<>();
            references(step).forEach(reference -> needs.add(reference.target()));
            if (fanoutOf.containsKey(step.id())) {
                needs.add(fanoutOf.get(step.id()));
            }
            dependencies.put(step.id(), java.util.Collections.unmodifiableSet(needs));
        }
        return dependencies;
    }

    static void check(List<Step> steps) {
        Map<String, Step> byId = new LinkedHashMap<>();
        steps.forEach(step -> byId.put(step.id(), step));
        Map<String, String> fanoutOf = fanoutMembers(steps, byId);
        Map<String, Set<String>> dependencies = new LinkedHashMap<>();
        for (Step step : steps) {
            Set<String> needs = new LinkedHashSet<>();
            for (Reference reference : references(step)) {
                if (!byId.containsKey(reference.target())) {
                    throw InvalidDefinition.step(step.id(), reference.what() + " names '" + reference.target()
                            + "', but there is no step with that id.");
                }
                needs.add(reference.target());
            }
            if (step instanceof Step.Model model) {
                String fanout = fanoutOf.get(model.id());
                if (model.input() == null && fanout == null) {
                    throw InvalidDefinition.step(model.id(), "'input' is required (or name this step in a fanout's 'steps').");
                }
                if (model.input() != null && fanout != null) {
                    throw InvalidDefinition.step(model.id(), "gets its input from fanout '" + fanout + "'; remove its 'input'.");
                }
                if (fanout != null) {
                    needs.add(fanout);
                }
            }
            dependencies.put(step.id(), needs);
        }
        checkAcyclic(dependencies);
    }

    /** What a step reads, and where it says so (for the refusal's words). */
    private record Reference(String what, String target) {
    }

    private static List<Reference> references(Step step) {
        List<Reference> refs = new ArrayList<>();
        if (step instanceof Step.Prompt prompt) {
            Templates.stepReferences(prompt.template())
                    .forEach(id -> refs.add(new Reference("the template's steps." + id + ".output", id)));
        } else if (step instanceof Step.Aggregate aggregate) {
            aggregate.inputs().forEach(id -> refs.add(new Reference("'inputs'", id)));
        } else {
            String input = input(step);
            if (input != null) {
                refs.add(new Reference("'input'", input));
            }
        }
        return refs;
    }

    /** The one step whose output this step reads, for the steps that have an {@code input}. */
    public static String input(Step step) {
        if (step instanceof Step.Model m) {
            return m.input();
        } else if (step instanceof Step.Fanout f) {
            return f.input();
        } else if (step instanceof Step.Postprocess p) {
            return p.input();
        } else if (step instanceof Step.Handoff h) {
            return h.input();
        } else if (step instanceof Step.Emit e) {
            return e.input();
        }
        return null;
    }

    /** Each model step named by a fanout, and that fanout. */
    private static Map<String, String> fanoutMembers(List<Step> steps, Map<String, Step> byId) {
        Map<String, String> fanoutOf = new HashMap<>();
        for (Step step : steps) {
            if (!(step instanceof Step.Fanout fanout)) {
                continue;
            }
            for (String member : fanout.steps()) {
                Step target = byId.get(member);
                if (target == null) {
                    throw InvalidDefinition.step(fanout.id(), "'steps' names '" + member + "', but there is no step with that id.");
                }
                if (!(target instanceof Step.Model)) {
                    throw InvalidDefinition.step(fanout.id(), "'steps' names '" + member + "', a " + target.type()
                            + " step; a fanout's steps are model steps.");
                }
                String earlier = fanoutOf.putIfAbsent(member, fanout.id());
                if (earlier != null) {
                    throw InvalidDefinition.step(fanout.id(), "'steps' names '" + member + "', which fanout '" + earlier
                            + "' names already; a model step belongs to one fanout at most.");
                }
            }
        }
        return fanoutOf;
    }

    /** Depth-first, in the order the steps were written; a cycle is reported from the first step found on it. */
    private static void checkAcyclic(Map<String, Set<String>> dependencies) {
        Map<String, Boolean> state = new HashMap<>(); // false: on the current path; true: done
        for (String id : dependencies.keySet()) {
            visit(id, dependencies, state, new ArrayList<>());
        }
    }

    private static void visit(String id, Map<String, Set<String>> dependencies, Map<String, Boolean> state, List<String> path) {
        Boolean seen = state.get(id);
        if (Boolean.TRUE.equals(seen)) {
            return;
        }
        if (Boolean.FALSE.equals(seen)) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(id), path.size()));
            cycle.add(id);
            throw InvalidDefinition.step(cycle.get(0), "the steps form a cycle: " + String.join(" → ", cycle)
                    + " (each reads the output of the next).");
        }
        state.put(id, false);
        path.add(id);
        for (String next : dependencies.get(id)) {
            visit(next, dependencies, state, path);
        }
        path.remove(path.size() - 1);
        state.put(id, true);
    }
}
