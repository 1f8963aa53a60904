import test from 'ava';
import { useCpu } from './tf-setup.js';
import { TestFFMModel } from '../../src/model/models/test-ffm-model.js';
import { DeepFMModel } from '../../src/model/models/deepfm.js';

test.before(useCpu);
test('smoke', (t) => {
  const spec = new TestFFMModel().toModelSpec();
  console.log(JSON.stringify(spec.features), Object.keys(spec.tables), JSON.stringify(spec.tables['0']));
  const m = spec.buildDense();
  console.log(m.inputs.map((i) => i.shape), m.outputs.map((o) => o.shape));
  const d = new DeepFMModel({ sparseSlots: 3, denseFeatures: 2 }).toModelSpec();
  console.log(JSON.stringify(d.features), JSON.stringify(d.denseInputs), JSON.stringify(d.tables['fc_slot_1']));
  const dm = d.buildDense();
  console.log(dm.inputs.map((i) => i.shape), dm.outputs.map((o) => o.shape));
  t.pass();
});
