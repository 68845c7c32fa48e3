package org.irevnet.reports;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * One figure of a report, as it appears in {@code report.json} (with a {@code kind}) and in
 * {@code report.html}. In a curve, numbers that are not finite are {@code null}; a table keeps a
 * file's non-finite number as the text Jackson wrote for it ({@code "NaN"}).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({@JsonSubTypes.Type(value = Figure.Line.class, name = "line"),
    @JsonSubTypes.Type(value = Figure.Table.class, name = "table"),
    @JsonSubTypes.Type(value = Figure.Matrix.class, name = "matrix"),
    @JsonSubTypes.Type(value = Figure.Image.class, name = "image")})
public sealed interface Figure {
  String title();

  /**
   * A line chart. With {@code xCategories}, the x values are indices into it (stages, layers);
   * {@code logY} plots log10(y), dropping values that are not positive.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Line(String title, String xLabel, String yLabel, List<String> xCategories, boolean logY,
      List<Series> series) implements Figure {}

  /**
   * One curve; {@code y[i]} belongs to {@code x[i]}, null where there is no value. {@code lo[i]} and
   * {@code hi[i]}, where given, bound {@code y[i]}'s 95% interval, drawn as an error bar (absent for
   * curves without intervals; null at a point without one).
   */
  record Series(String name, List<Double> x, List<Double> y, @JsonInclude(JsonInclude.Include.NON_NULL) List<Double> lo,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<Double> hi) {
    public Series(String name, List<Double> x, List<Double> y) {
      this(name, x, y, null, null);
    }
  }

  /** A table of scalars (strings, numbers, booleans or null); {@code note} says what was left out. */
  record Table(String title, List<String> columns, List<List<Object>> rows, String note) implements Figure {}

  /** A matrix with labelled rows and columns, shaded by value (a confusion matrix). */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Matrix(String title, String rowLabel, String columnLabel, List<String> labels, List<List<Double>> values)
      implements Figure {}

  /** A PNG of the run directory ({@code file} is relative to it); its bytes go into the HTML only. */
  record Image(String title, String file, int width, int height, @JsonIgnore byte[] png) implements Figure {}
}
