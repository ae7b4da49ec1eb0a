"""Drawing blocks, on supervision's annotators as Roboflow's are: each answers `image`, the
input image (same lineage) with the predictions drawn on a copy."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import supervision as sv

from inference_workflows import kinds as K
from inference_workflows.blocks.base import Block, Field, Output, is_bool, is_int, is_number, one_of
from inference_workflows.colors import parse_bgr
from inference_workflows.images import WorkflowImage

IMAGE = Field("image", (K.IMAGE,), selector_only=True, type_hint="image")
PREDICTIONS = Field("predictions", K.DETECTIONS, selector_only=True)
COPY_IMAGE = Field("copy_image", (K.BOOLEAN,), True, is_bool, "bool")
PALETTE = (
    Field("color_palette", (K.STRING,), "DEFAULT", type_hint="str"),
    Field("palette_size", (K.INTEGER,), 10, is_int(1), "int"),
    Field("custom_colors", (K.LIST_OF_VALUES,), [], type_hint="List[str]"),
    Field("color_axis", (K.STRING,), "CLASS", one_of("INDEX", "CLASS", "TRACK"), "str"),
)
POSITIONS = tuple(position.name for position in sv.Position)


def palette(color_palette: str, palette_size: int, custom_colors: list[str]) -> sv.ColorPalette:
    if color_palette == "CUSTOM":
        return sv.ColorPalette(colors=[to_color(value) for value in custom_colors])
    named = getattr(sv.ColorPalette, color_palette, None)
    if isinstance(named, sv.ColorPalette):
        return named
    name = color_palette.replace("Matplotlib ", "")
    name = (
        name.capitalize()
        if name in {"Pastel1", "Pastel2", "Paired", "Accent", "Dark2", "Set1", "Set2", "Set3"}
        else name.lower()
    )
    try:
        return sv.ColorPalette.from_matplotlib(name, int(palette_size))
    except ImportError as error:
        raise ValueError(f"Palette {color_palette!r} needs matplotlib, which is not installed.") from error


def to_color(value: Any) -> sv.Color:
    b, g, r = parse_bgr(value)
    return sv.Color(r=r, g=g, b=b)


class VisualizationBlock(Block):
    block_type = "visualization"
    outputs = (Output("image", (K.IMAGE,)),)
    extra_fields: ClassVar[tuple[Field, ...]] = ()
    colourable: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.fields = (IMAGE, PREDICTIONS, COPY_IMAGE, *(PALETTE if cls.colourable else ()), *cls.extra_fields)

    def run(self, image: WorkflowImage, predictions: sv.Detections, copy_image: bool, **options: Any) -> dict:
        scene = image.pixels.copy() if copy_image else image.pixels
        drawn = self.draw(scene, predictions, **options)
        return {"image": image.derived(drawn)}

    def draw(self, scene: np.ndarray, detections: sv.Detections, **options: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def colours(options: dict[str, Any]) -> dict[str, Any]:
        return {
            "color": palette(options["color_palette"], options["palette_size"], options["custom_colors"]),
            "color_lookup": getattr(sv.ColorLookup, options["color_axis"]),
        }


class BoundingBoxVisualization(VisualizationBlock):
    name = "roboflow_core/bounding_box_visualization@v1"
    aliases = ("BoundingBoxVisualization",)
    title = "Bounding Box Visualization"
    extra_fields = (
        Field("thickness", (K.INTEGER,), 2, is_int(0), "int"),
        Field("roundness", (K.FLOAT_ZERO_TO_ONE,), 0.0, is_number(0, 1), "float"),
    )

    def draw(self, scene, detections, thickness, roundness, **options):
        if roundness == 0:
            annotator = sv.BoxAnnotator(thickness=thickness, **self.colours(options))
        else:
            annotator = sv.RoundBoxAnnotator(
                thickness=thickness, roundness=roundness, **self.colours(options)
            )
        return annotator.annotate(scene=scene, detections=detections)


LABEL_TEXTS = (
    "Class",
    "Confidence",
    "Class and Confidence",
    "Index",
    "Dimensions",
    "Area",
    "Tracker Id",
    "Time In Zone",
)


def labels(detections: sv.Detections, text: str) -> list[str]:
    names = detections.data.get("class_name", np.array([""] * len(detections)))
    if text == "Class":
        return [str(name) for name in names]
    if text == "Confidence":
        return [f"{value:.2f}" for value in detections.confidence]
    if text == "Class and Confidence":
        return [f"{name} {value:.2f}" for name, value in zip(names, detections.confidence)]
    if text == "Index":
        return [str(i) for i in range(len(detections))]
    if text == "Dimensions":
        result = []
        for x1, y1, x2, y2 in detections.xyxy:
            result.append(f"{int((x1 + x2) / 2)}, {int((y1 + y2) / 2)} {int(x2 - x1)}x{int(y2 - y1)}")
        return result
    if text == "Area":
        return [str(int(area)) for area in detections.area]
    if text == "Tracker Id":
        if detections.tracker_id is None:
            return ["No Tracker ID"] * len(detections)
        return [str(value) for value in detections.tracker_id]
    if text == "Time In Zone":
        times = detections.data.get("time_in_zone")
        return (
            [f"In zone: {value:.2f}s" for value in times]
            if times is not None
            else ["In zone: N/A"] * len(detections)
        )
    raise ValueError(f"Unknown label text {text!r}.")


class LabelVisualization(VisualizationBlock):
    name = "roboflow_core/label_visualization@v1"
    aliases = ("LabelVisualization",)
    title = "Label Visualization"
    extra_fields = (
        Field("text", (K.STRING,), "Class", one_of(*LABEL_TEXTS), "str"),
        Field("text_position", (K.STRING,), "TOP_LEFT", one_of(*POSITIONS), "str"),
        Field("text_color", (K.STRING,), "WHITE", type_hint="str"),
        Field("text_scale", (K.FLOAT,), 1.0, is_number(0), "float"),
        Field("text_thickness", (K.INTEGER,), 1, is_int(0), "int"),
        Field("text_padding", (K.INTEGER,), 10, is_int(0), "int"),
        Field("border_radius", (K.INTEGER,), 0, is_int(0), "int"),
    )

    def draw(
        self,
        scene,
        detections,
        text,
        text_position,
        text_color,
        text_scale,
        text_thickness,
        text_padding,
        border_radius,
        **options,
    ):
        annotator = sv.LabelAnnotator(
            text_position=getattr(sv.Position, text_position),
            text_color=to_color(text_color),
            text_scale=text_scale,
            text_thickness=text_thickness,
            text_padding=text_padding,
            border_radius=border_radius,
            **self.colours(options),
        )
        return annotator.annotate(scene=scene, detections=detections, labels=labels(detections, text))


class BlurVisualization(VisualizationBlock):
    name = "roboflow_core/blur_visualization@v1"
    aliases = ("BlurVisualization",)
    title = "Blur Visualization"
    colourable = False
    extra_fields = (Field("kernel_size", (K.INTEGER,), 15, is_int(1), "int"),)

    def draw(self, scene, detections, kernel_size, **_):
        return sv.BlurAnnotator(kernel_size=kernel_size).annotate(scene=scene, detections=detections)


class PixelateVisualization(VisualizationBlock):
    name = "roboflow_core/pixelate_visualization@v1"
    aliases = ("PixelateVisualization",)
    title = "Pixelate Visualization"
    colourable = False
    extra_fields = (Field("pixel_size", (K.INTEGER,), 20, is_int(1), "int"),)

    def draw(self, scene, detections, pixel_size, **_):
        return sv.PixelateAnnotator(pixel_size=pixel_size).annotate(scene=scene, detections=detections)


class PolygonVisualization(VisualizationBlock):
    name = "roboflow_core/polygon_visualization@v1"
    aliases = ("PolygonVisualization",)
    title = "Polygon Visualization"
    extra_fields = (Field("thickness", (K.INTEGER,), 2, is_int(0), "int"),)

    def draw(self, scene, detections, thickness, **options):
        return sv.PolygonAnnotator(thickness=thickness, **self.colours(options)).annotate(scene, detections)


class MaskVisualization(VisualizationBlock):
    name = "roboflow_core/mask_visualization@v1"
    aliases = ("MaskVisualization",)
    title = "Mask Visualization"
    extra_fields = (Field("opacity", (K.FLOAT_ZERO_TO_ONE,), 0.5, is_number(0, 1), "float"),)

    def draw(self, scene, detections, opacity, **options):
        return sv.MaskAnnotator(opacity=opacity, **self.colours(options)).annotate(scene, detections)


class ColorVisualization(VisualizationBlock):
    name = "roboflow_core/color_visualization@v1"
    aliases = ("ColorVisualization",)
    title = "Color Visualization"
    extra_fields = (Field("opacity", (K.FLOAT_ZERO_TO_ONE,), 0.5, is_number(0, 1), "float"),)

    def draw(self, scene, detections, opacity, **options):
        return sv.ColorAnnotator(opacity=opacity, **self.colours(options)).annotate(scene, detections)


class DotVisualization(VisualizationBlock):
    name = "roboflow_core/dot_visualization@v1"
    aliases = ("DotVisualization",)
    title = "Dot Visualization"
    extra_fields = (
        Field("position", (K.STRING,), "CENTER", one_of(*POSITIONS), "str"),
        Field("radius", (K.INTEGER,), 4, is_int(1), "int"),
        Field("outline_thickness", (K.INTEGER,), 0, is_int(0), "int"),
    )

    def draw(self, scene, detections, position, radius, outline_thickness, **options):
        annotator = sv.DotAnnotator(
            position=getattr(sv.Position, position),
            radius=radius,
            outline_thickness=outline_thickness,
            **self.colours(options),
        )
        return annotator.annotate(scene, detections)


class TriangleVisualization(VisualizationBlock):
    name = "roboflow_core/triangle_visualization@v1"
    aliases = ("TriangleVisualization",)
    title = "Triangle Visualization"
    extra_fields = (
        Field("position", (K.STRING,), "TOP_CENTER", one_of(*POSITIONS), "str"),
        Field("base", (K.INTEGER,), 10, is_int(1), "int"),
        Field("height", (K.INTEGER,), 10, is_int(1), "int"),
        Field("outline_thickness", (K.INTEGER,), 0, is_int(0), "int"),
    )

    def draw(self, scene, detections, position, base, height, outline_thickness, **options):
        annotator = sv.TriangleAnnotator(
            position=getattr(sv.Position, position),
            base=base,
            height=height,
            outline_thickness=outline_thickness,
            **self.colours(options),
        )
        return annotator.annotate(scene, detections)


class CircleVisualization(VisualizationBlock):
    name = "roboflow_core/circle_visualization@v1"
    aliases = ("CircleVisualization",)
    title = "Circle Visualization"
    extra_fields = (Field("thickness", (K.INTEGER,), 2, is_int(0), "int"),)

    def draw(self, scene, detections, thickness, **options):
        return sv.CircleAnnotator(thickness=thickness, **self.colours(options)).annotate(scene, detections)


class CropVisualization(VisualizationBlock):
    name = "roboflow_core/crop_visualization@v1"
    aliases = ("CropVisualization",)
    title = "Crop Visualization"
    extra_fields = (
        Field("position", (K.STRING,), "TOP_CENTER", one_of(*POSITIONS), "str"),
        Field("scale_factor", (K.FLOAT,), 2.0, is_number(0), "float"),
        Field("border_thickness", (K.INTEGER,), 2, is_int(0), "int"),
    )

    def draw(self, scene, detections, position, scale_factor, border_thickness, **options):
        annotator = sv.CropAnnotator(
            position=getattr(sv.Position, position),
            scale_factor=scale_factor,
            border_thickness=border_thickness,
            border_color=self.colours(options)["color"],
            border_color_lookup=self.colours(options)["color_lookup"],
        )
        return annotator.annotate(scene, detections)


class KeypointVisualization(VisualizationBlock):
    name = "roboflow_core/keypoint_visualization@v1"
    aliases = ("KeypointVisualization",)
    title = "Keypoint Visualization"
    colourable = False
    extra_fields = (
        Field("annotator_type", (), "edge", one_of("edge", "vertex", "vertex_label"), "str"),
        Field("color", (K.STRING,), "#A351FB", type_hint="str"),
        Field("text_color", (K.STRING,), "black", type_hint="str"),
        Field("text_scale", (K.FLOAT,), 0.5, is_number(0), "float"),
        Field("text_thickness", (K.INTEGER,), 1, is_int(0), "int"),
        Field("text_padding", (K.INTEGER,), 10, is_int(0), "int"),
        Field("thickness", (K.INTEGER,), 2, is_int(0), "int"),
        Field("radius", (K.INTEGER,), 10, is_int(0), "int"),
        Field("edges", (K.LIST_OF_VALUES,), None),
    )

    def draw(
        self,
        scene,
        detections,
        annotator_type,
        color,
        text_color,
        text_scale,
        text_thickness,
        text_padding,
        thickness,
        radius,
        edges,
        **_,
    ):
        if len(detections) == 0 or "keypoints_xy" not in detections.data:
            return scene
        keypoints = sv.KeyPoints(
            xy=np.asarray(detections.data["keypoints_xy"], dtype=np.float32),
            confidence=np.asarray(detections.data["keypoints_confidence"], dtype=np.float32),
        )
        if annotator_type == "edge":
            pairs = [tuple(pair) for pair in edges] if edges else None
            annotator = sv.EdgeAnnotator(color=to_color(color), thickness=thickness, edges=pairs)
        elif annotator_type == "vertex":
            annotator = sv.VertexAnnotator(color=to_color(color), radius=radius)
        else:
            annotator = sv.VertexLabelAnnotator(
                color=to_color(color),
                text_color=to_color(text_color),
                text_scale=text_scale,
                text_thickness=text_thickness,
                text_padding=text_padding,
            )
        return annotator.annotate(scene, keypoints)


VISUALIZATION_BLOCKS = [
    BoundingBoxVisualization,
    LabelVisualization,
    BlurVisualization,
    PixelateVisualization,
    PolygonVisualization,
    MaskVisualization,
    ColorVisualization,
    DotVisualization,
    TriangleVisualization,
    CircleVisualization,
    CropVisualization,
    KeypointVisualization,
]
