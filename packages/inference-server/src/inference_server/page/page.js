// The page at `/`: what the server is, its models, and a form that asks a model about an image.
// Plain JavaScript against the server's own routes; text is always set with textContent.
"use strict";

// model task (as /model/registry and /model/cache name it) -> its /infer route
const INFER_ROUTES = {
  "object-detection": "object_detection",
  "instance-segmentation": "instance_segmentation",
  "classification": "classification",
  "keypoint-detection": "keypoints_detection",
  "semantic-segmentation": "semantic_segmentation",
};

const byId = (id) => document.getElementById(id);

function withKey(path) {
  const key = byId("api-key").value.trim();
  return key ? `${path}${path.includes("?") ? "&" : "?"}api_key=${encodeURIComponent(key)}` : path;
}

async function getJson(path) {
  const response = await fetch(withKey(path), { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `${path} answered ${response.status}`);
  return body;
}

function fillList(list, items, empty) {
  list.replaceChildren();
  for (const text of items.length ? items : [empty]) {
    const item = document.createElement("li");
    item.textContent = text;
    list.append(item);
  }
}

async function showInfo() {
  const info = await getJson("/info");
  byId("server-name").textContent = info.name;
  byId("server-version").textContent = info.version;
  byId("server-backends").textContent = (info.backends || []).join(", ") || "none";
  // /info's plugins: [{name, distribution, version, registers, error}], one per plugin
  const plugins = (Array.isArray(info.plugins) ? info.plugins : []).map((plugin) =>
    `${plugin.name}${plugin.version ? ` ${plugin.version}` : ""}${plugin.error ? ` (failed: ${plugin.error})` : ""}`);
  byId("server-plugins").textContent = plugins.join(", ") || "none listed";
  const problemEntries = Array.isArray(info.backend_problems)
    ? info.backend_problems.map((problem) => ["", problem])
    : Object.entries(info.backend_problems || {});
  const problems = problemEntries.map(([name, why]) =>
    `${name ? `${name}: ` : ""}${typeof why === "string" ? why : JSON.stringify(why)}`);
  const problemLine = byId("server-problems");
  problemLine.hidden = problems.length === 0;
  problemLine.textContent = problems.length ? `Unavailable: ${problems.join("; ")}` : "";
}

async function showModels() {
  const problem = byId("models-problem");
  problem.hidden = true;
  try {
    const [loaded, cached] = await Promise.all([getJson("/model/registry"), getJson("/model/cache")]);
    const loadedModels = loaded.models || [];
    const cachedModels = cached.models || [];
    fillList(byId("loaded-models"), loadedModels.map((m) => `${m.model_id} (${m.task_type})`), "none yet");
    fillList(byId("cached-models"), cachedModels.map((m) => `${m.model_id} (${m.task})`),
             `none in ${cached.cache_dir}`);
    const tasks = new Map(cachedModels.map((m) => [m.model_id, m.task]));
    for (const m of loadedModels) tasks.set(m.model_id, m.task_type);
    const select = byId("model-id");
    const chosen = select.value;
    select.replaceChildren();
    for (const [modelId, task] of tasks) {
      if (!INFER_ROUTES[task]) continue;
      const option = new Option(`${modelId} (${task})`, modelId, false, modelId === chosen);
      option.dataset.task = task;
      select.append(option);
    }
  } catch (error) {
    problem.hidden = false;
    problem.textContent = `Models: ${error.message}`;
  }
}

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function predict(event) {
  event.preventDefault();
  const status = byId("infer-status");
  const option = byId("model-id").selectedOptions[0];
  const file = byId("image-file").files[0];
  if (!option || !file) {
    status.textContent = option ? "Choose an image first." : "No model to ask: import one first.";
    return;
  }
  status.textContent = `Asking ${option.value}…`;
  const drawn = byId("drawn");
  drawn.hidden = true;  // no stale answer next to a new question
  byId("predictions-json").textContent = "";
  const body = {
    model_id: option.value,
    image: { type: "base64", value: await readAsBase64(file) },
    confidence: Number(byId("confidence").value),
    visualize_predictions: true,
    visualization_labels: true,
  };
  const response = await fetch(withKey(`/infer/${INFER_ROUTES[option.dataset.task]}`), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ message: `answered ${response.status}` }));
  if (!response.ok) {
    status.textContent = `Error ${response.status}: ${answer.message}`;
    return;
  }
  drawn.src = `data:image/jpeg;base64,${answer.visualization}`;
  drawn.hidden = false;
  const shown = { ...answer, visualization: `(${answer.visualization.length} base64 characters, drawn on the left)` };
  byId("predictions-json").textContent = JSON.stringify(shown, null, 2);
  // semantic segmentation answers one mask, not a list: count the classes present in it
  const count = Array.isArray(answer.predictions)
    ? answer.predictions.length : (answer.predictions.present_class_ids || []).length;
  const noun = Array.isArray(answer.predictions) ? "prediction" : "class";
  status.textContent = `${count} ${noun}${count === 1 ? "" : noun === "class" ? "es" : "s"} in ${answer.time.toFixed(3)} s.`;
  showModels();
}

function acceptDrops() {
  const zone = byId("drop-zone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) byId("image-file").files = event.dataTransfer.files;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  acceptDrops();
  byId("infer-form").addEventListener("submit", (event) =>
    predict(event).catch((error) => { byId("infer-status").textContent = `Error: ${error.message}`; }));
  byId("refresh").addEventListener("click", showModels);
  showInfo().catch((error) => { byId("server-problems").hidden = false;
                                 byId("server-problems").textContent = `/info: ${error.message}`; });
  showModels();
});
