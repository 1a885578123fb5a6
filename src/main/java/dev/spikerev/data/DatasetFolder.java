package dev.spikerev.data;

import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * The file listing of torchvision's {@code DatasetFolder} ({@code find_classes} + {@code make_dataset}): classes are
 * the sub-directory names of {@code root} sorted by code point (Python's {@code sorted}), class index = position;
 * within a class, directories are visited in the order of their path strings ({@code sorted(os.walk(...))}, following
 * links) and each one's files by name. Shared by {@link ImageFolder} and {@link DvsFolder}.
 *
 * @param classes class names, sorted
 * @param files   per class, its accepted files in torchvision's order
 */
record DatasetFolder(List<String> classes, List<List<Path>> files) {
    private static final Comparator<Path> BY_STRING = Comparator.comparing(Path::toString);

    /** Lists {@code root}; {@code accept} picks the files (e.g. by extension). */
    static DatasetFolder scan(Path root, Predicate<Path> accept) throws IOException {
        List<String> classes;
        try (Stream<Path> s = Files.list(root)) {
            classes = s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        }
        List<List<Path>> files = new ArrayList<>();
        for (String c : classes) {
            List<Path> dirs;
            try (Stream<Path> s = Files.walk(root.resolve(c), FileVisitOption.FOLLOW_LINKS)) {
                dirs = s.filter(Files::isDirectory).sorted(BY_STRING).toList();
            }
            List<Path> fs = new ArrayList<>();
            for (Path d : dirs) {
                try (Stream<Path> s = Files.list(d)) {
                    s.filter(Files::isRegularFile).filter(accept).sorted(Comparator.comparing(p -> p.getFileName().toString())).forEach(fs::add);
                }
            }
            files.add(fs);
        }
        return new DatasetFolder(classes, files);
    }

    /** Accepts files whose name ends with one of {@code extensions} (lower case, with the dot), case-insensitively. */
    static Predicate<Path> withExtension(String... extensions) {
        return p -> {
            String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
            for (String e : extensions) if (n.endsWith(e)) return true;
            return false;
        };
    }

    /** Number of files over all classes. */
    int size() { return files.stream().mapToInt(List::size).sum(); }

    /** Samples in class order: the files {@code pick} keeps of each class's list, with their class index. */
    Samples samples(UnaryOperator<List<Path>> pick) {
        List<Path> out = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < files.size(); c++) {
            for (Path f : pick.apply(files.get(c))) {
                out.add(f);
                labels.add(c);
            }
        }
        return new Samples(List.copyOf(out), labels.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Files and their labels. */
    record Samples(List<Path> files, int[] labels) {}
}
